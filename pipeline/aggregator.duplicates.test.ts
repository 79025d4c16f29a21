/**
 * The collector cannot know that an event resent in a later request is a duplicate; the
 * aggregator finds it against its seen-ID set. Those duplicates must show where the README says
 * duplicates are counted: the tracking ID's ingest counters (admin API trackingIds.counts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openEmbeddedStorage } from '../appliance/storage/embedded/index.ts';
import { createMemoryCache } from '../appliance/storage/memory-cache.ts';
import type { EventLog, LogRecord, SubscribeOptions } from '../core/ports/index.ts';
import { DAY_MS, dayOf } from '../core/time.ts';
import { makeEvent } from '../tests/contract/fixtures.ts';
import { startAggregator } from './aggregator.ts';

const H = Date.UTC(2030, 4, 1, 10);

test('events resent in later requests are counted as duplicates in the tracking ID\'s ingest counters', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'almanac-dups-'));
  const storage = openEmbeddedStorage({ path: path.join(dir, 'd.sqlite'), partitions: 1 });
  let member: SubscribeOptions | undefined;
  const eventLog = {
    partitions: 1,
    subscribe: async (o: SubscribeOptions) => ((member = o), { stop: async () => {} }),
  } as unknown as EventLog;
  const record = (offset: number, id: number): LogRecord => ({
    partition: 0,
    offset,
    event: makeEvent({ eventId: `e${id}`, trackingId: 'site-d', visitorId: `v${id}`, ts: H + id * 1000, receivedAt: H + id * 1000 }),
  });
  try {
    const agg = await startAggregator(
      { eventLog, rollups: storage.rollups, cache: createMemoryCache({ maxEntries: 100 }), registry: storage.registry, now: () => H + 60_000 },
      { sessionTimeoutMs: 30 * 60_000, topK: 100, batchSize: 100, dedupWindowHours: 48, logicVersion: 1 },
    );
    await member!.onAssign!([0]);
    await member!.onBatch({ partition: 0, records: [0, 1, 2, 3].map((i) => record(i, i)) });
    // The same four IDs again (a client retry), and one new event.
    await member!.onBatch({ partition: 0, records: [0, 1, 2, 3, 4].map((i) => record(4 + i, i)) });
    assert.equal(agg.stats().duplicates, 4);
    const counts = await storage.registry.ingestCounts('site-d', dayOf(H), dayOf(H) + DAY_MS);
    assert.equal(counts.duplicate, 4);
    await agg.onShutdown();
  } finally {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
