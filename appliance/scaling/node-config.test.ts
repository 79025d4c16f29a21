import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { loadConfig } from '../main/config.ts';

test('node settings: id <hostname>-<port>; the cluster profile supervises unless ALMANAC_ROLES is given', () => {
  const embedded = loadConfig({ ALMANAC_PORT: '9100' });
  assert.equal(embedded.node.id, `${os.hostname()}-9100`);
  assert.equal(embedded.node.supervise, false, 'embedded: one process, as before');
  assert.deepEqual([embedded.node.reconcileIntervalMs, embedded.node.backoffInitialMs, embedded.node.backoffMaxMs], [1500, 1000, 30_000]);
  assert.equal(loadConfig({ ALMANAC_PROFILE: 'cluster' }).node.supervise, true);
  assert.equal(loadConfig({ ALMANAC_PROFILE: 'cluster', ALMANAC_ROLES: 'aggregator' }).node.supervise, false);
  assert.equal(loadConfig({ ALMANAC_PROFILE: 'cluster', ALMANAC_SUPERVISE: 'false' }).node.supervise, false);
  assert.equal(loadConfig({ ALMANAC_NODE_ID: 'edge-1', ALMANAC_WORKER_OF: 'edge-1' }).node.workerOf, 'edge-1');
});

test('node settings: wrong values stop start-up naming the variable', () => {
  assert.throws(() => loadConfig({ ALMANAC_NODE_ID: 'has space' }), /ALMANAC_NODE_ID must be letters/);
  assert.throws(() => loadConfig({ ALMANAC_WORKER_BACKOFF_INITIAL_MS: '5000', ALMANAC_WORKER_BACKOFF_MAX_MS: '1000' }), /ALMANAC_WORKER_BACKOFF_MAX_MS \(1000\) must be at least/);
  assert.throws(() => loadConfig({ ALMANAC_SUPERVISE: 'true' }), /ALMANAC_SUPERVISE=true needs ALMANAC_PROFILE=cluster/);
  assert.throws(() => loadConfig({ ALMANAC_RECONCILE_INTERVAL_MS: '5' }), /ALMANAC_RECONCILE_INTERVAL_MS must be a whole number from 100/);
});
