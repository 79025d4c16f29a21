import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createProfileStore, isPageOfAppliance, normaliseApplianceUrl, ProfileError, type TokenCipher } from './profiles.ts';

/** A stand-in for safeStorage: reversible, and visibly not the plain text. */
const cipher: TokenCipher = {
  available: () => true,
  encrypt: (plain) => Buffer.from(plain.split('').reverse().join(''), 'utf8'),
  decrypt: (b) => b.toString('utf8').split('').reverse().join(''),
};

function tempStore(c: TokenCipher = cipher) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'almanac-profiles-'));
  const file = path.join(dir, 'connections.json');
  return { store: createProfileStore(file, c), file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('a saved token is stored only encrypted (file mode 600) and read back by its profile', () => {
  const { store, file, cleanup } = tempStore();
  try {
    const p = store.save({ name: 'Prod', url: 'https://almanac.example:8420/console/', token: 'as_secret-token-123' });
    assert.deepEqual(p, { id: p.id, name: 'Prod', url: 'https://almanac.example:8420', hasToken: true });
    assert.doesNotMatch(store.rawFile(), /secret-token-123/);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(store.token(p.id), 'as_secret-token-123');
    assert.deepEqual(store.list(), [p]);
  } finally {
    cleanup();
  }
});

test('updating keeps the token unless asked; null forgets it; a new URL forgets it too', () => {
  const { store, cleanup } = tempStore();
  try {
    const p = store.save({ name: 'Prod', url: 'https://a.example', token: 'as_1' });
    assert.equal(store.save({ id: p.id, name: 'Production', url: 'https://a.example' }).hasToken, true);
    assert.equal(store.token(p.id), 'as_1');
    assert.equal(store.save({ id: p.id, name: 'Production', url: 'https://b.example' }).hasToken, false, 'a token belongs to one appliance');
    store.save({ id: p.id, name: 'Production', url: 'https://b.example', token: 'as_2' });
    assert.equal(store.save({ id: p.id, name: 'Production', url: 'https://b.example', token: null }).hasToken, false);
    assert.equal(store.token(p.id), null);
  } finally {
    cleanup();
  }
});

test('last used profile; deleting it clears it; unknown ids and bad input are refused', () => {
  const { store, cleanup } = tempStore();
  try {
    const a = store.save({ name: 'A', url: 'http://127.0.0.1:8420' });
    const b = store.save({ name: 'B', url: 'http://127.0.0.1:8421' });
    store.markUsed(b.id);
    assert.equal(store.lastUsed()?.id, b.id);
    store.delete(b.id);
    assert.equal(store.lastUsed(), undefined);
    assert.deepEqual(store.list().map((p) => p.id), [a.id]);
    assert.throws(() => store.save({ id: 'nope', name: 'X', url: 'http://x' }), ProfileError);
    assert.throws(() => store.save({ name: ' ', url: 'http://x' }), /needs a name/);
    assert.throws(() => store.save({ name: 'X', url: 'ftp://x' }), /http or https/);
  } finally {
    cleanup();
  }
});

test('without a secret store, a token is refused rather than saved in clear', () => {
  const { store, cleanup } = tempStore({ ...cipher, available: () => false });
  try {
    assert.throws(() => store.save({ name: 'A', url: 'http://x', token: 'as_1' }), /no secret store/);
    assert.equal(store.save({ name: 'A', url: 'http://x' }).hasToken, false);
  } finally {
    cleanup();
  }
});

test('the token is handed only to pages of its own appliance', () => {
  assert.equal(isPageOfAppliance('https://a.example:8420/console/#/tenants', 'https://a.example:8420'), true);
  assert.equal(isPageOfAppliance('https://evil.example/console/', 'https://a.example:8420'), false);
  assert.equal(isPageOfAppliance('file:///app/index.html', 'https://a.example:8420'), false);
  assert.equal(normaliseApplianceUrl(' http://h:1/base/console '), 'http://h:1/base');
});
