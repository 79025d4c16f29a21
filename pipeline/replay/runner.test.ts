/**
 * The runner against the embedded storage, without the aggregator's scheduling: the archiver has
 * archived events the aggregator has not counted yet when the replay runs. The replay must leave
 * them out, and the live path counts them afterwards, on top of the replaced buckets: exactly
 * once, equal to the reference. Also: validation errors of startReplay.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openEmbeddedStorage, type EmbeddedStorage } from '../../appliance/storage/embedded/index.ts';
import type { EnrichedEvent } from '../../core/event.ts';
import type { Registry, ReplayJobRegistry } from '../../core/ports.ts';
import { DAY_MS, MINUTE_MS } from '../../core/time.ts';
import { startAggregator } from '../aggregator.ts';
import { startArchiver } from '../archiver.ts';
import { makeEvent } from '../rollup/test-support.ts';
import { cancelReplay, dayKey, getReplay, listReplays, ReplayError, startReplay, startReplayRunner, DEFAULT_RUNNER_CONFIG } from './index.ts';
import { compareBuckets, reference, storedBuckets, waitCaughtUp } from './test-support.ts';

const OPTIONS = { sessionTimeoutMs: 30 * MINUTE_MS, topK: 100, logicVersion: 5 };
const AGG = { sessionTimeoutMs: OPTIONS.sessionTimeoutMs, topK: 100, batchSize: 50, dedupWindowHours: 48, logicVersion: 5 };
let dir: string;
let storage: EmbeddedStorage;
let registry: Registry & ReplayJobRegistry;
const SITE = 'AL-REPLAYTEST';

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'almanac-runner-'));
  storage = openEmbeddedStorage({ path: path.join(dir, 'almanac.sqlite'), partitions: 2, pollIntervalMs: 10 });
  registry = storage.registry as Registry & ReplayJobRegistry;
  await registry.createTenant({ id: 'tn_replay', name: 'Replay', status: 'active', rateLimitPerSec: 100, monthlyEventCap: null, retentionDays: 30 });
  await registry.createTrackingId({ id: SITE, tenantId: 'tn_replay', name: 'Shop', allowedOrigins: ['*'], serverKey: 'sk', status: 'active', respectDnt: false });
});
after(async () => {
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
});

function visits(n: number, seed: string, from: number): EnrichedEvent[] {
  const out: EnrichedEvent[] = [];
  for (let v = 0; v < n; v++) {
    let ts = from + ((v * 7919) % (2 * DAY_MS));
    for (let i = 0; i < 1 + (v % 5); i++) {
      ts += ((v + i) % 25) * MINUTE_MS;
      out.push(makeEvent({
        eventId: `${seed}-${v}-${i}`, trackingId: SITE, visitorId: `${seed}-visitor-${v}`, ts, receivedAt: Date.now(),
        path: ['/', '/a', '/b'][i % 3], browser: v % 4 === 0 ? 'Firefox' : 'Chrome', source: i === 0 && v % 3 === 0 ? 'google.com' : '',
      }));
    }
  }
  return out;
}

test('events archived but not yet counted are left to the live path: counted once, equal to the reference', async () => {
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const from = today - 2 * DAY_MS;
  const archiver = await startArchiver({ eventLog: storage.eventLog, archive: storage.archive });
  // History counted with a wrong logic (Firefox ignored).
  let aggregator = await startAggregator({ eventLog: storage.eventLog, rollups: storage.rollups, cache: storage.cache }, { ...AGG, testOnlyDropBrowser: 'Firefox' });
  await storage.eventLog.append(visits(300, 'a', from));
  await waitCaughtUp(storage.eventLog);
  await aggregator.onShutdown();
  // More events of the same days: archived, not counted (the aggregator is stopped).
  const late = visits(120, 'b', from + 3 * MINUTE_MS);
  await storage.eventLog.append(late);
  const archived = async () => (await storage.eventLog.committedOffsets('almanac-archiver')).reduce((a, b) => a + b, 0);
  while ((await archived()) < 300 * 3 + 120 * 3) await new Promise((r) => setTimeout(r, 20));

  const job = await startReplay(registry, { trackingIds: [SITE], from: dayKey(from), to: dayKey(today) }, { logicVersion: 5 });
  const lines: string[] = [];
  const runner = startReplayRunner({
    registry, archive: storage.archive, rollups: storage.rollups, eventLog: storage.eventLog,
    host: { owns: () => true, exclusive: async (p, fn) => fn(await storage.rollups.checkpoint(p)), bumpDataVersions: async () => {} },
    log: (m) => lines.push(m),
  }, { ...DEFAULT_RUNNER_CONFIG, options: OPTIONS, dedupWindowHours: 48, maxEventAgeHours: 72, pollMs: 20 });
  while ((await getReplay(registry, job.id)).status !== 'done') await new Promise((r) => setTimeout(r, 20));
  await runner.stop();
  const leftToLive = lines.map((l) => Number(/\((\d+) not yet counted/.exec(l)?.[1] ?? 0)).reduce((a, b) => a + b, 0);
  assert.equal(leftToLive, late.length, lines.join('\n'));

  // The live path (correct logic now) counts them.
  aggregator = await startAggregator({ eventLog: storage.eventLog, rollups: storage.rollups, cache: storage.cache }, AGG);
  await waitCaughtUp(storage.eventLog);
  await aggregator.onShutdown();
  await archiver.onShutdown();

  const ref = await reference(storage.archive, SITE, OPTIONS);
  const stored = await storedBuckets(storage.rollups, SITE, from, today + DAY_MS);
  assert.deepEqual(compareBuckets(stored, ref.buckets, from, today + DAY_MS), []);
  assert.ok(stored.every((b) => b.logicVersion === 5));
});

test('startReplay validates its input with clear errors; cancel and list', async () => {
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const code = async (input: Parameters<typeof startReplay>[1]) => {
    try {
      await startReplay(registry, input);
      return 'ok';
    } catch (e) {
      assert.ok(e instanceof ReplayError, String(e));
      return `${e.code} ${e.status}`;
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

  const job = await startReplay(registry, { tenantId: 'tn_replay', from: d(-29), to: d(0), dryRun: true });
  assert.deepEqual([job.trackingIds, job.tenantId, job.status, job.progress.daysTotal, job.to - job.from], [[SITE], 'tn_replay', 'queued', 30, 30 * DAY_MS]);
  assert.equal(await code({ trackingIds: [SITE], from: d(-1), to: d(0) }), 'conflict 409');
  assert.equal((await listReplays(registry))[0].id, job.id, 'newest first');
  const cancelled = await cancelReplay(registry, job.id);
  assert.deepEqual([cancelled.status, cancelled.cancelRequested], ['cancelled', true]);
  await assert.rejects(cancelReplay(registry, job.id), /already cancelled/);
  await assert.rejects(getReplay(registry, 'rp_none'), (e) => e instanceof ReplayError && e.status === 404);
});
