import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from './config.ts';
import { startAppliance } from './run.ts';
import { cliEnv, SETTINGS_FILE } from './saved-settings.ts';
import { ConfigError } from '../../core/errors.ts';

const bin = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../bin/almanac.mjs');
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'almanac-settings-'));
const save = (dir: string, settings: object) => writeFileSync(path.join(dir, SETTINGS_FILE), JSON.stringify(settings));

// Regression: the CLI without --profile cluster opened a new SQLite file beside a cluster node and
// answered `tenants list` with [].
test('the CLI takes the profile, namespace and public URL of the appliance that runs with this data folder', () => {
  const dir = tmp();
  try {
    save(dir, { profile: 'cluster', namespace: 'shop_eu', publicUrl: 'https://stats.example', port: 8500 });
    const env = cliEnv({ ALMANAC_DATA_DIR: dir });
    assert.equal(env.ALMANAC_PROFILE, 'cluster');
    assert.equal(env.ALMANAC_NAMESPACE, 'shop_eu');
    assert.equal(env.ALMANAC_PUBLIC_URL, 'https://stats.example');
    const config = loadConfig(env);
    assert.equal(config.profile, 'cluster');
    assert.equal(config.cluster.namespace, 'shop_eu');
    // Said again, it agrees.
    assert.equal(cliEnv({ ALMANAC_DATA_DIR: dir, ALMANAC_PROFILE: 'cluster' }).ALMANAC_PROFILE, 'cluster');
    // No saved settings: the environment as it is.
    assert.deepEqual(cliEnv({ ALMANAC_DATA_DIR: path.join(dir, 'none') }), { ALMANAC_DATA_DIR: path.join(dir, 'none') });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a --profile or namespace that disagrees with the running appliance is refused, naming both', () => {
  const dir = tmp();
  try {
    save(dir, { profile: 'cluster', namespace: 'shop_eu', publicUrl: 'http://127.0.0.1:8500', port: 8500 });
    assert.throws(() => cliEnv({ ALMANAC_DATA_DIR: dir, ALMANAC_PROFILE: 'embedded' }), (e: unknown) =>
      e instanceof ConfigError && /cluster/.test(e.message) && /embedded/.test(e.message) && e.message.includes(dir));
    assert.throws(() => cliEnv({ ALMANAC_DATA_DIR: dir, ALMANAC_NAMESPACE: 'other' }), (e: unknown) =>
      e instanceof ConfigError && /shop_eu/.test(e.message) && /other/.test(e.message));

    const r = spawnSync(process.execPath, [bin, 'tenants', 'list', '--profile', 'embedded', '--data-dir', dir], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /cluster/);
    assert.doesNotMatch(r.stdout, /\[\]/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Regression: CLI snippets beside an appliance on another port named port 8420.
test('an appliance started on another port saves its URL, and CLI snippets use it', async () => {
  const dir = tmp();
  try {
    const app = await startAppliance(loadConfig({ ALMANAC_DATA_DIR: dir, ALMANAC_PORT: '0' }));
    await app.stop();
    const saved = JSON.parse(readFileSync(path.join(dir, SETTINGS_FILE), 'utf8'));
    assert.equal(saved.profile, 'embedded');
    assert.equal(saved.publicUrl, app.url);
    const trackingId = app.firstStart.credentials!.trackingId;
    const r = spawnSync(process.execPath, [bin, 'tracking-ids', 'snippet', trackingId, '--data-dir', dir], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.includes(`src="${app.url}/tracker.js"`), r.stdout);
    assert.doesNotMatch(r.stdout, /:8420/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
