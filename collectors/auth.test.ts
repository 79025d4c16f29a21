import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createAuthenticator, keysEqual, originAllowed } from './auth.ts';
import { aTenant, aTrackingId, aRegistry } from '../tests/support/collector-fixtures.ts';
import { manualClock } from '../tests/support/fakes/clock.ts';

function setup(records = [aTrackingId()], tenants = [aTenant()]) {
  const clock = manualClock();
  const registry = aRegistry(tenants, records);
  const auth = createAuthenticator({ registry, now: clock.now }, { memoMs: 5_000 });
  return { clock, registry, auth };
}

const code = (r: { ok: boolean; code?: string }) => (r.ok ? 'ok' : r.code);

describe('authenticate', () => {
  test('browser request from an allowed origin; the origin is echoed for CORS', async () => {
    const { auth } = setup();
    const r = await auth.authenticate({ trackingId: 'site_1', origin: 'https://shop.example' });
    assert.ok(r.ok);
    assert.equal(r.mode, 'browser');
    assert.equal(r.allowOrigin, 'https://shop.example');
  });

  test('registry states', async () => {
    const { auth } = setup(
      [aTrackingId(), aTrackingId({ id: 'paused', status: 'paused' }), aTrackingId({ id: 'revoked', status: 'revoked' }), aTrackingId({ id: 'susp', tenantId: 'ten_s' }), aTrackingId({ id: 'orphan', tenantId: 'nope' })],
      [aTenant(), aTenant({ id: 'ten_s', status: 'suspended' })],
    );
    const o = 'https://shop.example';
    assert.equal(code(await auth.authenticate({ trackingId: 'missing', origin: o })), 'unknown_tracking_id');
    assert.equal(code(await auth.authenticate({ trackingId: 'paused', origin: o })), 'tracking_id_revoked');
    assert.equal(code(await auth.authenticate({ trackingId: 'revoked', origin: o })), 'tracking_id_revoked');
    assert.equal(code(await auth.authenticate({ trackingId: 'susp', origin: o })), 'tenant_suspended');
    assert.equal(code(await auth.authenticate({ trackingId: 'orphan', origin: o })), 'unknown_tracking_id');
  });

  test('origins must match exactly: scheme, host and port', async () => {
    const { auth } = setup();
    for (const origin of ['http://shop.example', 'https://evil.shop.example', 'https://shop.example:8443', 'https://shop.example.evil.com', 'null', 'garbage']) {
      assert.equal(code(await auth.authenticate({ trackingId: 'site_1', origin })), 'origin_not_allowed', origin);
    }
    assert.equal(code(await auth.authenticate({ trackingId: 'site_1', origin: 'https://SHOP.example:443' })), 'ok');
  });

  test("'*' allows any origin", async () => {
    const { auth } = setup([aTrackingId({ allowedOrigins: ['*'] })]);
    assert.equal(code(await auth.authenticate({ trackingId: 'site_1', origin: 'https://anything.example' })), 'ok');
  });

  test('server-side requests need the server key; a key wins over an Origin', async () => {
    const { auth } = setup();
    const ok = await auth.authenticate({ trackingId: 'site_1', serverKey: 'sk_secret_key' });
    assert.ok(ok.ok);
    assert.equal(ok.mode, 'server');
    assert.equal(ok.allowOrigin, undefined);
    assert.equal(code(await auth.authenticate({ trackingId: 'site_1', serverKey: 'sk_wrong' })), 'bad_server_key');
    assert.equal(code(await auth.authenticate({ trackingId: 'site_1', serverKey: '' })), 'bad_server_key');
    assert.equal(code(await auth.authenticate({ trackingId: 'site_1', serverKey: 'nope', origin: 'https://shop.example' })), 'bad_server_key');
  });

  test('an empty stored server key disables server-side sending', async () => {
    const { auth } = setup([aTrackingId({ serverKey: '' })]);
    assert.equal(code(await auth.authenticate({ trackingId: 'site_1', serverKey: '' })), 'bad_server_key');
  });

  test('neither Origin nor key is missing_origin; the pixel is let in by its Referer origin', async () => {
    const { auth } = setup();
    assert.equal(code(await auth.authenticate({ trackingId: 'site_1' })), 'missing_origin');
    assert.equal(code(await auth.authenticate({ trackingId: 'site_1', referer: 'https://shop.example/page' })), 'missing_origin', 'Referer counts only for the pixel');
    assert.equal(code(await auth.authenticate({ trackingId: 'site_1', pixel: true, referer: 'https://shop.example/page?x=1' })), 'ok');
    assert.equal(code(await auth.authenticate({ trackingId: 'site_1', pixel: true, referer: 'https://other.example/' })), 'origin_not_allowed');
    assert.equal(code(await auth.authenticate({ trackingId: 'site_1', pixel: true })), 'missing_origin');
  });

  test('lookups are memoised for memoMs, found or not', async () => {
    const { auth, registry, clock } = setup();
    await auth.authenticate({ trackingId: 'site_1', origin: 'https://shop.example' });
    await auth.authenticate({ trackingId: 'site_1', origin: 'https://shop.example' });
    await auth.authenticate({ trackingId: 'ghost', origin: 'https://shop.example' });
    await auth.authenticate({ trackingId: 'ghost', origin: 'https://shop.example' });
    assert.equal(registry.siteLookups, 2);
    // an admin revokes: effective after the memo expires
    registry.trackingIds.set('site_1', aTrackingId({ status: 'revoked' }));
    assert.equal(code(await auth.authenticate({ trackingId: 'site_1', origin: 'https://shop.example' })), 'ok');
    clock.advance(5_001);
    assert.equal(code(await auth.authenticate({ trackingId: 'site_1', origin: 'https://shop.example' })), 'tracking_id_revoked');
  });

  test('a registry failure throws (the caller answers 503) and is not memoised', async () => {
    const { auth, registry } = setup();
    registry.failLookups = true;
    await assert.rejects(auth.authenticate({ trackingId: 'site_1', origin: 'https://shop.example' }));
    registry.failLookups = false;
    assert.equal(code(await auth.authenticate({ trackingId: 'site_1', origin: 'https://shop.example' })), 'ok');
  });
});

test('originAllowed and keysEqual', () => {
  assert.ok(originAllowed('https://a.example', ['https://b.example', 'https://a.example/']));
  assert.ok(!originAllowed('https://a.example', []));
  assert.ok(keysEqual('k', 'k'));
  assert.ok(!keysEqual('k', 'kk'));
  assert.ok(!keysEqual('', ''));
});
