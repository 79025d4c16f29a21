/**
 * The runner against the embedded storage, without the aggregator's scheduling: the archiver has
 * archived events the aggregator has not counted yet when the replay runs. The replay must leave
 * them out, and the live path counts them afterwards, on top of the replaced buckets: exactly
 * once, equal to the reference. (startReplay's own refusals: control/replays.test.ts.)
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openEmbeddedStorage, type EmbeddedStorage } from '../../appliance/storage/embedded/index.ts';
import type { EnrichedEvent } from '../../core/event.ts';
import type { RawArchive, Registry } from '../../core/ports/index.ts';
import { DAY_MS, MINUTE_MS } from '../../core/time.ts';
import { startAggregator } from '../aggregator.ts';
import { startArchiver } from '../archiver.ts';
import { makeEvent } from '../../tests/support/events.ts';
import { dayKey, startReplayRunner, DEFAULT_RUNNER_CONFIG } from './index.ts';
import { cancelReplay, getReplay, startReplay } from '../../control/replays.ts';
import { ControlError, httpStatus } from '../../control/errors.ts';
import { compareBuckets, reference, storedBuckets, waitCaughtUp } from '../../tests/support/replay-reference.ts';
import { dropBrowser } from '../../tests/support/aggregator-hooks.ts';

const OPTIONS = { sessionTimeoutMs: 30 * MINUTE_MS, topK: 100, logicVersion: 5 };
const AGG = { sessionTimeoutMs: OPTIONS.sessionTimeoutMs, topK: 100, batchSize: 50, dedupWindowHours: 48, logicVersion: 5 };
let dir: string;
let storage: EmbeddedStorage;
let registry: Registry;
const SITE = 'AL-REPLAYTEST';
const LOG_SITE = 'AL-REPLAYLOG';

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'almanac-runner-'));
  storage = openEmbeddedStorage({ path: path.join(dir, 'almanac.sqlite'), partitions: 2, pollIntervalMs: 10 });
  registry = storage.registry;
  await registry.createTenant({ id: 'tn_replay', name: 'Replay', status: 'active', rateLimitPerSec: 100, monthlyEventCap: null, retentionDays: 30 });
  await registry.createTrackingId({ id: SITE, tenantId: 'tn_replay', name: 'Shop', allowedOrigins: ['*'], serverKey: 'sk', status: 'active', respectDnt: false });
  await registry.createTenant({ id: 'tn_replay_log', name: 'Replay from the log', status: 'active', rateLimitPerSec: 100, monthlyEventCap: null, retentionDays: 30 });
  await registry.createTrackingId({ id: LOG_SITE, tenantId: 'tn_replay_log', name: 'Shop 2', allowedOrigins: ['*'], serverKey: 'sk2', status: 'active', respectDnt: false });
});
after(async () => {
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
});

function visits(n: number, seed: string, from: number, site = SITE): EnrichedEvent[] {
  const out: EnrichedEvent[] = [];
  for (let v = 0; v < n; v++) {
    let ts = from + ((v * 7919) % (2 * DAY_MS));
    for (let i = 0; i < 1 + (v % 5); i++) {
      ts += ((v + i) % 25) * MINUTE_MS;
      out.push(makeEvent({
        eventId: `${seed}-${v}-${i}`, trackingId: site, visitorId: `${seed}-visitor-${v}`, ts, receivedAt: Date.now(),
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
  let aggregator = await startAggregator({ eventLog: storage.eventLog, rollups: storage.rollups, cache: storage.cache, hooks: { logic: dropBrowser('Firefox') } }, AGG);
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

/** The archive, except that reading it fails: a job from the event log must not need it. */
function unreadableArchive(): RawArchive {
  const a = storage.archive;
  return {
    insert: (e) => a.insert(e), count: (q) => a.count(q), deleteBefore: (t, b) => a.deleteBefore(t, b), close: async () => {},
    scan: () => { throw new Error('the archive was read'); },
  };
}

test('a job from the event log reads only the log, up to the checkpoint: equal to the reference', async () => {
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const from = today - 2 * DAY_MS;
  const archiver = await startArchiver({ eventLog: storage.eventLog, archive: storage.archive });
  let aggregator = await startAggregator({ eventLog: storage.eventLog, rollups: storage.rollups, cache: storage.cache, hooks: { logic: dropBrowser('Firefox') } }, AGG);
  await storage.eventLog.append(visits(300, 'c', from, LOG_SITE));
  await waitCaughtUp(storage.eventLog);
  await aggregator.onShutdown();
  // Past the checkpoint: in the log (and archived, for the reference), not counted yet.
  const late = visits(120, 'd', from + 3 * MINUTE_MS, LOG_SITE);
  await storage.eventLog.append(late);
  const ends = await storage.eventLog.endOffsets();
  await waitFor(async () => (await storage.eventLog.committedOffsets('almanac-archiver')).every((o, p) => o >= ends[p]));

  // auto: the log holds everything (nothing trimmed), so the job reads the log.
  const job = await startReplay(registry, { trackingIds: [LOG_SITE], from: dayKey(from), to: dayKey(today) }, { logicVersion: 5, eventLog: storage.eventLog });
  assert.equal(job.source, 'log');
  const lines: string[] = [];
  const runner = startReplayRunner({
    registry, archive: unreadableArchive(), rollups: storage.rollups, eventLog: storage.eventLog,
    host: { owns: () => true, exclusive: async (p, fn) => fn(await storage.rollups.checkpoint(p)), bumpDataVersions: async () => {} },
    log: (m) => lines.push(m),
  }, { ...DEFAULT_RUNNER_CONFIG, options: OPTIONS, dedupWindowHours: 48, maxEventAgeHours: 72, pollMs: 20 });
  await waitFor(async () => ['done', 'failed'].includes((await getReplay(registry, job.id)).status));
  await runner.stop();
  assert.equal((await getReplay(registry, job.id)).status, 'done', lines.join('\n'));
  assert.equal(lines.filter((l) => l.includes('(event log)')).length, 3, lines.join('\n'));

  aggregator = await startAggregator({ eventLog: storage.eventLog, rollups: storage.rollups, cache: storage.cache }, AGG);
  await waitCaughtUp(storage.eventLog);
  await aggregator.onShutdown();
  await archiver.onShutdown();
  const ref = await reference(storage.archive, LOG_SITE, OPTIONS);
  const stored = await storedBuckets(storage.rollups, LOG_SITE, from, today + DAY_MS);
  assert.ok(stored.length > 100);
  assert.deepEqual(compareBuckets(stored, ref.buckets, from, today + DAY_MS), []);
  assert.ok(stored.every((b) => b.logicVersion === 5));
});

test('past the log retention: auto picks the archive, an explicit log is refused, a log job falls back per day', async () => {
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const from = today - 2 * DAY_MS;
  // The log as it looks once retention trimmed its start: the oldest record is from now.
  const trimmed = { ...bindLog(), earliest: async () => ({ offset: 7, time: Date.now() }) };
  const input = { trackingIds: [LOG_SITE], from: dayKey(from), to: dayKey(today) };
  const auto = await startReplay(registry, input, { logicVersion: 5, eventLog: trimmed });
  assert.equal(auto.source, 'archive');
  await cancelReplay(registry, auto.id);
  await assert.rejects(startReplay(registry, { ...input, source: 'log' }, { logicVersion: 5, eventLog: trimmed }), (e: ControlError) => {
    assert.equal(e.code, 'outside_log_retention');
    assert.equal(httpStatus(e.code), 409);
    assert.match(e.message, new RegExp(`${LOG_SITE} \\(partition \\d+: oldest retained record`));
    assert.match(e.message, /source archive/);
    return true;
  });
  await assert.rejects(startReplay(registry, { ...input, source: 'log' }, { logicVersion: 5 }), (e: ControlError) => e.code === 'unsupported');

  // Retention passed after the job started: each day is read from the archive instead, and says so.
  const job = await startReplay(registry, { ...input, source: 'log' }, { logicVersion: 5, eventLog: storage.eventLog });
  assert.equal(job.source, 'log');
  const lines: string[] = [];
  const runner = startReplayRunner({
    registry, archive: storage.archive, rollups: storage.rollups, eventLog: { ...trimmed, read: () => Promise.reject(new Error('the log was read')) },
    host: { owns: () => true, exclusive: async (p, fn) => fn(await storage.rollups.checkpoint(p)), bumpDataVersions: async () => {} },
    log: (m) => lines.push(m),
  }, { ...DEFAULT_RUNNER_CONFIG, options: OPTIONS, dedupWindowHours: 48, maxEventAgeHours: 72, pollMs: 20 });
  await waitFor(async () => ['done', 'failed'].includes((await getReplay(registry, job.id)).status));
  await runner.stop();
  assert.equal((await getReplay(registry, job.id)).status, 'done', lines.join('\n'));
  assert.equal(lines.filter((l) => l.includes('this day is read from the archive')).length, 3, lines.join('\n'));
  const ref = await reference(storage.archive, LOG_SITE, OPTIONS);
  assert.deepEqual(compareBuckets(await storedBuckets(storage.rollups, LOG_SITE, from, today + DAY_MS), ref.buckets, from, today + DAY_MS), []);
});

function bindLog() {
  const l = storage.eventLog;
  return {
    partitions: l.partitions,
    read: l.read.bind(l), offsetForTime: l.offsetForTime.bind(l), earliest: l.earliest.bind(l),
    committedOffsets: l.committedOffsets.bind(l), endOffsets: l.endOffsets.bind(l),
  };
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
