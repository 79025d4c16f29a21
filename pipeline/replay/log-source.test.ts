/**
 * The event log as a replay source: a day recomputed from the log equals computeRollups over the
 * events the live path counted (the records below the checkpoint, once per eventId), for random
 * streams in receive order with other sites interleaved, late events (received up to the max
 * event age after their ts), duplicates, and records past the checkpoint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { EnrichedEvent } from '../../core/event.ts';
import type { EventLog, LogRecord, RollupStore } from '../../core/ports/index.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../core/time.ts';
import { computeRollups, type RollupOptions } from '../rollup/index.ts';
import { makeEvent } from '../../tests/support/events.ts';
import { recomputeDay } from './chunk.ts';
import { logHoldsSince, logSource } from './log-source.ts';

const D0 = Date.UTC(2026, 10, 10);
const T = 30 * MINUTE_MS;
const OPTIONS: RollupOptions = { sessionTimeoutMs: T, topK: 3, logicVersion: 7 };
const MAX_AGE = 72 * HOUR_MS;

type Timed = { time: number; event: EnrichedEvent };

/** An in-memory log of one partition: records in order, record time = receivedAt; `low` trimmed off. */
function memoryLog(records: Timed[], low = 0): Pick<EventLog, 'read' | 'offsetForTime' | 'earliest'> & { reads: number } {
  const log = {
    reads: 0,
    async read(partition: number, from: number, max: number): Promise<LogRecord[]> {
      log.reads++;
      const out: LogRecord[] = [];
      for (let o = Math.max(from, low); o < records.length && out.length < max; o++) out.push({ partition, offset: o, event: records[o].event });
      return out;
    },
    async offsetForTime(_p: number, ts: number) {
      for (let o = low; o < records.length; o++) if (records[o].time >= ts) return o;
      return records.length;
    },
    async earliest() {
      return low < records.length ? { offset: low, time: records[low].time } : { offset: records.length, time: undefined };
    },
  };
  return log;
}

const stubStore = { readTotals: async () => [], getSessions: async () => [], seenEventIds: async () => new Set<string>() } as unknown as RollupStore;

const visitorArb = fc.record({
  start: fc.integer({ min: -20 * HOUR_MS, max: 2 * DAY_MS }),
  gaps: fc.array(fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0, max: 29 * MINUTE_MS }) },
    { weight: 2, arbitrary: fc.integer({ min: T + 1, max: 6 * HOUR_MS }) },
  ), { minLength: 1, maxLength: 30 }),
  // How long after its ts each event is received: mostly at once, sometimes days late (offline).
  delays: fc.array(fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0, max: 5_000 }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: MAX_AGE }) },
  ), { minLength: 31, maxLength: 31 }),
  other: fc.boolean(),
  duplicate: fc.boolean(),
  source: fc.constantFrom('', 'google.com', 'x.com'),
});

test('a day recomputed from the log equals computeRollups over the counted records', async () => {
  await fc.assert(fc.asyncProperty(fc.array(visitorArb, { minLength: 1, maxLength: 10 }), fc.double({ min: 0.5, max: 1, noNaN: true }), async (visitors, cut) => {
    const timed: Timed[] = [];
    visitors.forEach((v, vi) => {
      let ts = D0 + v.start;
      [0, ...v.gaps].forEach((gap, i) => {
        ts += gap;
        const receivedAt = ts + v.delays[i];
        const event = makeEvent({
          eventId: `e-${vi}-${i}`, trackingId: v.other ? 'site-other' : 'site-r', visitorId: `v-${vi}`, ts, receivedAt,
          path: ['/', '/a', '/b'][i % 3], source: i === 0 ? v.source : '', browser: vi % 2 ? 'Firefox' : 'Chrome',
        });
        timed.push({ time: receivedAt, event });
        // A client retry: the same event again, received a little later.
        if (v.duplicate && i % 3 === 1) timed.push({ time: receivedAt + 1_000, event: { ...event, receivedAt: receivedAt + 1_000 } });
      });
    });
    timed.sort((a, b) => a.time - b.time);
    // The checkpoint: records from here on are not counted yet.
    const checkpoint = Math.floor(timed.length * cut);
    const counted = new Map<string, EnrichedEvent>();
    for (const r of timed.slice(0, checkpoint)) if (r.event.trackingId === 'site-r' && !counted.has(r.event.eventId)) counted.set(r.event.eventId, r.event);
    const reference = computeRollups([...counted.values()].sort((a, b) => a.ts - b.ts || (a.eventId < b.eventId ? -1 : 1)), OPTIONS);

    const log = memoryLog(timed);
    for (let day = D0 - DAY_MS; day <= D0 + 3 * DAY_MS; day += DAY_MS) {
      const source = logSource({ eventLog: log, partition: 0, endOffset: checkpoint, maxEventAgeMs: MAX_AGE, clockSkewMs: 0, marginMs: 0, readBatch: 5 });
      const r = await recomputeDay({ trackingId: 'site-r', day, options: OPTIONS, archive: source, rollups: stubStore, now: D0 + 10 * DAY_MS, counted: async (e) => e, pageSize: 7 });
      assert.deepEqual(r.buckets, reference.buckets.filter((b) => b.start >= day && b.start < day + DAY_MS), `buckets of ${new Date(day).toISOString()}`);
      assert.equal(r.eventsInDay, [...counted.values()].filter((e) => e.ts >= day && e.ts < day + DAY_MS).length);
    }
  }), { numRuns: 60 });
});

test('the offset window: only the records around the range are read; holds-since follows trimming', async () => {
  // One event a minute over 10 days, received at once.
  const timed: Timed[] = [];
  for (let t = D0; t < D0 + 10 * DAY_MS; t += MINUTE_MS) timed.push({ time: t, event: makeEvent({ eventId: `m-${t}`, trackingId: 'site-r', ts: t, receivedAt: t }) });
  const log = memoryLog(timed);
  const source = logSource({ eventLog: log, partition: 0, endOffset: timed.length, maxEventAgeMs: MAX_AGE, clockSkewMs: 0, marginMs: HOUR_MS, readBatch: 1_000 });
  const day = D0 + 2 * DAY_MS;
  assert.equal(await source.count({ trackingIds: ['site-r'], from: day, to: day + DAY_MS }), 24 * 60);
  // From day − 1 h to day + 1 day + 72 h + 1 h: 4 days and 2 hours of records, not 10 days.
  assert.equal(source.stats.recordsRead, (4 * 24 + 2) * 60);
  assert.equal(await source.count({ trackingIds: ['site-nope'], from: day, to: day + DAY_MS }), 0);

  assert.deepEqual(await logHoldsSince(log, 0, D0 - DAY_MS), { ok: true, oldest: D0 });
  const trimmed = memoryLog(timed, 3 * 24 * 60);
  assert.equal((await logHoldsSince(trimmed, 0, D0 + 2 * DAY_MS)).ok, false);
  assert.equal((await logHoldsSince(trimmed, 0, D0 + 3 * DAY_MS)).ok, true);
  assert.equal((await logHoldsSince(memoryLog([], 0), 0, D0)).ok, true, 'an empty, never trimmed partition');
});
