/**
 * Regression (visits depended on arrival order) end to end on the embedded profile: one visitor's events sent in shuffled
 * ts order (offline queues, server senders, backfills) through the aggregator and SQLite, with a
 * new aggregator instance taking over half-way (its visits come back from the store), give the
 * visits, bounces, durations and entry/exit pages of sessionising the sorted events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openEmbeddedStorage } from '../appliance/storage/embedded/index.ts';
import { createMemoryCache } from '../appliance/storage/memory-cache.ts';
import type { EnrichedEvent } from '../core/event.ts';
import type { EventLog, LogRecord, RollupStore, SubscribeOptions } from '../core/ports/index.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS, type Granularity } from '../core/time.ts';
import { makeEvent } from '../tests/contract/fixtures.ts';
import { startAggregator } from './aggregator.ts';
import { computeRollups } from './rollup/index.ts';

function drivenLog(): { log: EventLog; member: () => SubscribeOptions } {
  let opts: SubscribeOptions | undefined;
  const log: EventLog = {
    partitions: 1,
    append: async () => {},
    subscribe: async (o) => {
      opts = o;
      return { stop: async () => {} };
    },
    read: async () => [],
    endOffsets: async () => [0],
    committedOffsets: async () => [0],
    offsetForTime: async () => 0,
    earliest: async () => ({ offset: 0, time: undefined }),
    close: async () => {},
  };
  return { log, member: () => opts! };
}

/** mulberry32: the same shuffle on every run. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DAY = Date.UTC(2030, 4, 1);
const SITE = 'site-arrival';

function scatteredDay(random: () => number): EnrichedEvent[] {
  const events: EnrichedEvent[] = [];
  for (let v = 0; v < 4; v++) {
    // Bursts of a few minutes apart, some bursts within 30 min of each other (one visit), some not.
    let t = DAY + Math.floor(random() * 3 * HOUR_MS);
    for (let i = 0; i < 60; i++) {
      t += random() < 0.2 ? 20 * MINUTE_MS + Math.floor(random() * 30 * MINUTE_MS) : Math.floor(random() * 5 * MINUTE_MS);
      const path = ['/', '/pricing', '/docs', '/blog'][Math.floor(random() * 4)];
      events.push(makeEvent({
        eventId: `e-${v}-${String(i).padStart(3, '0')}`, trackingId: SITE, visitorId: `visitor-${v}`, ts: t, receivedAt: DAY + DAY_MS,
        path, url: `https://shop.example${path}`, source: i % 7 === 0 ? 'news.example' : '',
      }));
    }
  }
  return events;
}

async function visitFigures(rollups: RollupStore, granularity: Granularity): Promise<unknown> {
  const totals = (await rollups.readTotals(SITE, granularity, DAY - DAY_MS, DAY + 2 * DAY_MS))
    .map((r) => [r.start, r.visits, r.bounces, r.durationMs, r.pageviews]);
  const rows = async (dimension: 'entry_page' | 'exit_page') => (await rollups.readBreakdown(SITE, granularity, DAY - DAY_MS, DAY + 2 * DAY_MS, dimension))
    .filter((r) => r.visits !== 0).map((r) => [r.start, r.value, r.visits, r.bounces, r.durationMs]);
  return { totals, entry: await rows('entry_page'), exit: await rows('exit_page') };
}

test('shuffled arrival through the aggregator and SQLite, with a takeover half-way, gives the visits of the sorted events', async () => {
  const random = prng(11);
  const events = scatteredDay(random);
  const sorted = [...events].sort((a, b) => a.ts - b.ts || (a.eventId < b.eventId ? -1 : 1));
  const arrived = [...events];
  for (let i = arrived.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [arrived[i], arrived[j]] = [arrived[j], arrived[i]];
  }
  const records: LogRecord[] = arrived.map((event, offset) => ({ partition: 0, offset, event }));

  const dir = mkdtempSync(path.join(os.tmpdir(), 'almanac-arrival-'));
  const storage = openEmbeddedStorage({ path: path.join(dir, 'a.sqlite'), partitions: 1 });
  const config = { sessionTimeoutMs: 30 * 60_000, topK: 100, batchSize: 100, dedupWindowHours: 48, logicVersion: 1, maxEventAgeHours: 72 };
  const reference = computeRollups(sorted, { sessionTimeoutMs: config.sessionTimeoutMs, topK: config.topK, logicVersion: 1 });
  try {
    const half = Math.floor(records.length / 2);
    for (const [from, to] of [[0, half], [half, records.length]]) {
      const driven = drivenLog();
      const agg = await startAggregator({ eventLog: driven.log, rollups: storage.rollups, cache: createMemoryCache({ maxEntries: 100 }), now: () => DAY + DAY_MS }, config);
      await driven.member().onAssign!([0]);
      for (let i = from; i < to; i += 17) await driven.member().onBatch({ partition: 0, records: records.slice(i, Math.min(i + 17, to)) });
      await agg.onShutdown();
    }

    const expected = {
      hour: reference.buckets.filter((b) => b.granularity === 'hour'),
      day: reference.buckets.filter((b) => b.granularity === 'day'),
    };
    for (const granularity of ['hour', 'day'] as const) {
      const want = {
        totals: expected[granularity].map((b) => [b.start, b.totals.visits, b.totals.bounces, b.totals.durationMs, b.totals.pageviews]),
        entry: expected[granularity].flatMap((b) => b.breakdowns.filter((r) => r.dimension === 'entry_page' && r.visits !== 0).map((r) => [b.start, r.value, r.visits, r.bounces, r.durationMs])),
        exit: expected[granularity].flatMap((b) => b.breakdowns.filter((r) => r.dimension === 'exit_page' && r.visits !== 0).map((r) => [b.start, r.value, r.visits, r.bounces, r.durationMs])),
      };
      assert.deepEqual(await visitFigures(storage.rollups, granularity), want, `${granularity} visits`);
    }
    const visits = expected.day.reduce((n, b) => n + b.totals.visits, 0);
    assert.ok(visits >= 8 && visits < 100, `the traffic has several visits per visitor (${visits})`);
    const kept = await storage.rollups.getSessions(reference.sessions);
    assert.deepEqual(kept, reference.sessions, 'the store keeps every visit of each visitor');
  } finally {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
