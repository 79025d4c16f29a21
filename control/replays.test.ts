/** startReplay's refusals (each a ControlError with its code and mapped status), cancel and list. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openEmbeddedStorage, type EmbeddedStorage } from '../appliance/storage/embedded/index.ts';
import type { Registry } from '../core/ports/index.ts';
import { DAY_MS } from '../core/time.ts';
import { dayKey } from '../pipeline/replay/index.ts';
import { cancelReplay, getReplay, listReplays, startReplay, startReplayInput, type StartReplayInput } from './replays.ts';
import { ControlError, httpStatus } from './errors.ts';
import { parseInput } from './validate.ts';

const SITE = 'AL-REPLAYTEST';
let dir: string;
let storage: EmbeddedStorage;
let registry: Registry;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'almanac-control-replays-'));
  storage = openEmbeddedStorage({ path: path.join(dir, 'almanac.sqlite'), partitions: 2 });
  registry = storage.registry;
  await registry.createTenant({ id: 'tn_replay', name: 'Replay', status: 'active', rateLimitPerSec: 100, monthlyEventCap: null, retentionDays: 30 });
  await registry.createTrackingId({ id: SITE, tenantId: 'tn_replay', name: 'Shop', allowedOrigins: ['*'], serverKey: 'sk', status: 'active', respectDnt: false });
});
after(async () => {
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
});

test('startReplay refuses with clear errors, each code with its status; cancel and list', async () => {
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const code = async (input: unknown) => {
    try {
      await startReplay(registry, parseInput(startReplayInput, input));
      return 'ok';
    } catch (e) {
      assert.ok(e instanceof ControlError, String(e));
      return `${e.code} ${httpStatus(e.code)}`;
    }
  };
  const d = (offset: number) => dayKey(today + offset * DAY_MS);
  assert.equal(await code({ trackingIds: [SITE], from: d(0), to: d(-1) }), 'invalid_range 400');
  assert.equal(await code({ trackingIds: [SITE], from: '2026-02-30', to: d(0) }), 'invalid_range 400');
  assert.equal(await code({ trackingIds: [SITE], from: d(0), to: d(1) }), 'invalid_range 400');
  assert.equal(await code({ trackingIds: [SITE], from: d(-400), to: d(0) }), 'range_too_long 400');
  assert.equal(await code({ trackingIds: [SITE], from: d(-30), to: d(0) }), 'beyond_retention 400');
  assert.equal(await code({ trackingIds: ['AL-NOPE'], from: d(-1), to: d(0) }), 'unknown_tracking_id 404');
  assert.equal(await code({ tenantId: 'tn_nope', from: d(-1), to: d(0) }), 'unknown_tenant 404');
  assert.equal(await code({ tenantId: 'tn_replay', trackingIds: [SITE], from: d(-1), to: d(0) }), 'invalid_request 400');
  assert.equal(await code({ trackingIds: [SITE], from: d(-1), to: d(0), source: 'log' }), 'unsupported 501');
  assert.equal(await code({ trackingIds: [SITE], from: d(-1), to: d(0), source: 'kafka' }), 'invalid_request 400');
  assert.equal(await code({ trackingIds: [], from: d(-1), to: d(0) }), 'invalid_request 400');
  assert.equal(await code({ trackingIds: [SITE], from: 'yesterday', to: d(0) }), 'invalid_request 400');
  assert.equal(await code(null), 'invalid_request 400');

  const job = await startReplay(registry, { tenantId: 'tn_replay', from: d(-29), to: d(0), dryRun: true } satisfies StartReplayInput);
  assert.deepEqual([job.trackingIds, job.tenantId, job.status, job.progress.daysTotal, job.to - job.from], [[SITE], 'tn_replay', 'queued', 30, 30 * DAY_MS]);
  assert.equal(await code({ trackingIds: [SITE], from: d(-1), to: d(0) }), 'conflict 409');
  assert.equal((await listReplays(registry))[0].id, job.id, 'newest first');
  const cancelled = await cancelReplay(registry, job.id);
  assert.deepEqual([cancelled.status, cancelled.cancelRequested], ['cancelled', true]);
  await assert.rejects(cancelReplay(registry, job.id), /already cancelled/);
  await assert.rejects(getReplay(registry, 'rp_none'), (e) => e instanceof ControlError && httpStatus(e.code) === 404);
});
