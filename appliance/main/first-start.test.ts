import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openEmbeddedStorage } from '../storage/embedded/index.ts';
import { ensureFirstTenant, recoveryHint } from './first-start.ts';
import { snippetFor } from '../../collectors/index.ts';

/** A registry kept apart from the data folder, as the cluster profile's MongoDB is. */
function withRegistry(run: (registry: ReturnType<typeof openEmbeddedStorage>['registry'], dir: string) => Promise<void>) {
  return async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'almanac-first-start-'));
    const storage = openEmbeddedStorage({ path: path.join(dir, 'registry.sqlite'), partitions: 1 });
    try {
      await run(storage.registry, dir);
    } finally {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const opts = (dataDir: string) => ({ dataDir, publicUrl: 'http://127.0.0.1:8420', snippetFor });

// Regression: `npm start -- --profile cluster` in a fresh clone died with ENOENT .data/credentials.json
// after creating the first tenant, key and admin user; the next start found the tenant and never
// wrote the credentials.
test('a fresh clone (no data folder) gets its data folder and credentials.json (mode 600) on the first start', withRegistry(async (registry, dir) => {
  const dataDir = path.join(dir, 'clone', '.data');
  const first = await ensureFirstTenant(registry, opts(dataDir));
  assert.equal(first.created, true);
  const saved = JSON.parse(readFileSync(first.credentialsPath, 'utf8'));
  assert.equal(saved.adminApiKey, first.credentials!.adminApiKey);
  assert.ok(saved.adminPassword);
  assert.equal(statSync(first.credentialsPath).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(dataDir), ['credentials.json'], 'no temp file left behind');

  const again = await ensureFirstTenant(registry, opts(dataDir));
  assert.equal(again.created, false);
  assert.equal(again.missing, undefined);
  assert.deepEqual(JSON.parse(readFileSync(first.credentialsPath, 'utf8')), saved, 'a second start changes nothing');
  assert.equal((await registry.listTenants()).length, 1);
}));

test('a data folder that cannot be written stops the first start before any record is made', withRegistry(async (registry, dir) => {
  const blocker = path.join(dir, 'not-a-folder');
  writeFileSync(blocker, '');
  await assert.rejects(ensureFirstTenant(registry, opts(path.join(blocker, '.data'))));
  assert.deepEqual(await registry.listTenants(), []);
  assert.deepEqual(await registry.listAdminUsers!(), []);
  // Once the folder can be written, the first start is made in full.
  const ok = await ensureFirstTenant(registry, opts(path.join(dir, '.data')));
  assert.equal(ok.created, true);
  assert.ok(ok.credentials?.adminPassword);
}));

test('credentials gone on a later start: the result says so and the hint names the commands that make a key and a password', withRegistry(async (registry, dir) => {
  const dataDir = path.join(dir, '.data');
  const first = await ensureFirstTenant(registry, opts(dataDir));
  unlinkSync(first.credentialsPath);
  const later = await ensureFirstTenant(registry, opts(dataDir));
  assert.equal(later.created, false);
  assert.equal(later.missing?.tenantId, first.credentials!.tenantId);
  const hint = recoveryHint(later, { dataDir });
  assert.match(hint, new RegExp(`almanac api-keys create --tenant ${first.credentials!.tenantId} --admin`));
  assert.match(hint, /almanac admin-users reset-password admin/);
}));
