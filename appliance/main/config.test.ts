import { test } from 'node:test';
import os from 'node:os';
import assert from 'node:assert/strict';
import { loadConfig, flagsToEnv } from './config.ts';
import { ConfigError } from '../../core/errors.ts';

test('defaults give an embedded appliance on port 8420 with every role', () => {
  const c = loadConfig({}, '/srv');
  assert.equal(c.profile, 'embedded');
  assert.equal(c.port, 8420);
  assert.equal(c.dataDir, '/srv/.data');
  assert.deepEqual([...c.roles], ['collector', 'archiver', 'aggregator', 'query', 'admin']);
  assert.equal(c.publicUrl, 'http://127.0.0.1:8420');
  assert.ok(Object.isFrozen(c.pipeline));
});

test('a wrong setting names the variable and what it accepts', () => {
  assert.throws(
    () => loadConfig({ ALMANAC_PORT: 'eighty', ALMANAC_PROFILE: 'big', ALMANAC_ROLES: 'collector,spark' }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.problems.length, 3);
      assert.match(e.message, /ALMANAC_PORT must be a whole number from 0 to 65535, got "eighty"/);
      assert.match(e.message, /ALMANAC_PROFILE must be one of embedded, cluster/);
      assert.match(e.message, /ALMANAC_ROLES .* got "collector,spark"/);
      return true;
    },
  );
});

test('flags map onto ALMANAC_* variables', () => {
  const { env, rest } = flagsToEnv(['start', '--port', '9000', '--data-dir=/tmp/x', '--trust-proxy']);
  assert.deepEqual(rest, ['start']);
  assert.deepEqual(env, { ALMANAC_PORT: '9000', ALMANAC_DATA_DIR: '/tmp/x', ALMANAC_TRUST_PROXY: 'true' });
  const c = loadConfig(env, '/');
  assert.equal(c.port, 9000);
  assert.equal(c.collector.trustProxy, true);
});

test('explore defaults fit the machine, and its bounds are checked', () => {
  const c = loadConfig({}, '/srv');
  assert.equal(c.explore.enabled, true);
  assert.equal(c.explore.timeoutMs, 10_000);
  assert.ok(c.explore.memoryMb >= 256 && c.explore.memoryMb <= 6144);
  assert.ok(c.explore.memoryMb * 1024 * 1024 <= os.totalmem() / 4 + 256 * 1024 * 1024, 'a quarter of RAM at most (or the 256 MiB floor)');
  assert.throws(
    () => loadConfig({ ALMANAC_EXPLORE_TIMEOUT_MS: '50', ALMANAC_EXPLORE_THREADS: '0', ALMANAC_LOG_RETENTION_HOURS: '24' }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /ALMANAC_EXPLORE_TIMEOUT_MS must be a whole number from 100 to 120000, got "50"/);
      assert.match(e.message, /ALMANAC_EXPLORE_THREADS must be a whole number from 1/);
      assert.match(e.message, /ALMANAC_LOG_RETENTION_HOURS \(24\) must be at least 72 while ALMANAC_EXPLORE is on/);
      return true;
    },
  );
  const tooBig = Math.floor((0.75 * os.totalmem()) / 1024 / 1024) - 100;
  assert.throws(() => loadConfig({ ALMANAC_EXPLORE_MEMORY_MB: String(tooBig), ALMANAC_EXPLORE_WRITER_MEMORY_MB: '1024' }), /must stay under 75 %/);
  assert.equal(loadConfig({ ALMANAC_EXPLORE: 'false', ALMANAC_LOG_RETENTION_HOURS: '24' }).explore.enabled, false);
});
