/**
 * Fencing at the aggregator: two instances on one rollup store (two SQLite connections, as two
 * processes would have), a partition moved from the first to the second while the first still
 * has a batch of it in hand (it has not noticed the rebalance). The first's commit must be
 * refused, nothing of it counted, and it must not take the partition back by itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openEmbeddedStorage } from '../appliance/storage/embedded/index.ts';
import { createMemoryCache } from '../appliance/storage/memory-cache.ts';
import { PartitionFencedError, type EventLog, type LogRecord, type SubscribeOptions } from '../core/ports/index.ts';
import { makeEvent } from '../tests/contract/fixtures.ts';
import { startAggregator } from './aggregator.ts';

/** An event log whose group membership and batches the test drives by hand. */
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

const H = Date.UTC(2030, 4, 1, 10);
const records = (from: number, n: number): LogRecord[] =>
  Array.from({ length: n }, (_, i) => ({
    partition: 0,
    offset: from + i,
    event: makeEvent({ eventId: `e${from + i}`, trackingId: 'site-f', visitorId: `v${from + i}`, ts: H + (from + i) * 1000, receivedAt: H + (from + i) * 1000 }),
  }));

test('a partition moved to another instance: the stale instance\'s commit is refused, nothing of it is counted', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'almanac-fencing-'));
  const a = openEmbeddedStorage({ path: path.join(dir, 'f.sqlite'), partitions: 1 });
  const b = openEmbeddedStorage({ path: path.join(dir, 'f.sqlite'), partitions: 1 });
  const config = { sessionTimeoutMs: 30 * 60_000, topK: 100, batchSize: 100, dedupWindowHours: 48, logicVersion: 1 };
  const logA = drivenLog();
  const logB = drivenLog();
  const lines: string[] = [];
  try {
    const aggA = await startAggregator({ eventLog: logA.log, rollups: a.rollups, cache: createMemoryCache({ maxEntries: 100 }), log: (m) => lines.push(`A ${m}`) }, config);
    const aggB = await startAggregator({ eventLog: logB.log, rollups: b.rollups, cache: createMemoryCache({ maxEntries: 100 }), log: (m) => lines.push(`B ${m}`) }, config);

    await logA.member().onAssign!([0]);
    await logA.member().onBatch({ partition: 0, records: records(0, 10) });
    // The group moves partition 0 to B; A has not noticed yet.
    await logB.member().onAssign!([0]);
    await logB.member().onBatch({ partition: 0, records: records(10, 5) });
    await assert.rejects(logA.member().onBatch({ partition: 0, records: records(15, 7) }), PartitionFencedError);
    // A keeps refusing the partition (the log retries the batch) until the group gives it back.
    await assert.rejects(logA.member().onBatch({ partition: 0, records: records(15, 7) }), PartitionFencedError);
    await logB.member().onBatch({ partition: 0, records: records(15, 7) });

    assert.equal(aggA.stats().fencedCommits, 1);
    assert.equal(aggA.stats().processed, 10);
    assert.equal(aggB.stats().processed, 12);
    assert.equal(await b.rollups.checkpoint(0), 22);
    const [day] = await b.rollups.readTotals('site-f', 'day', H - 86_400_000, H + 86_400_000);
    assert.equal(day.pageviews, 22, 'every event counted once: A\'s refused batch is not in the rollups');
    assert.ok(lines.some((l) => l.startsWith('A aggregator: partition 0 was claimed by another instance')), lines.join('\n'));

    // The group gives partition 0 back to A: it claims it again and carries on from B's checkpoint.
    await logA.member().onAssign!([0]);
    await logA.member().onBatch({ partition: 0, records: records(15, 10) });
    assert.equal(await a.rollups.checkpoint(0), 25);
    const [after] = await a.rollups.readTotals('site-f', 'day', H - 86_400_000, H + 86_400_000);
    assert.equal(after.pageviews, 25, 'records 15–21 skipped below B\'s checkpoint, 22–24 counted');
    await aggA.onShutdown();
    await aggB.onShutdown();
  } finally {
    await a.close();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
