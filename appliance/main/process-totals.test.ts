import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sumAggregatorStats, sumIngest } from './process-totals.ts';

const stats = (processed: number, newest: Record<string, number>, lastCommitAt: number | null) => ({
  processed, duplicates: 1, skippedBelowCheckpoint: 0, commits: 2, failedCommits: 0, fencedCommits: 0, newestEventTs: newest, lastCommitAt,
});

// Regression: two calls answered 10,512 and 10,466 (one collector worker each); the total was 20,978.
test('ingest counters of two collector workers are added per tracking ID and key', () => {
  assert.deepEqual(
    sumIngest([{ 'AL-1': { accepted: 10_512, 'bot:ua': 3 } }, null, { 'AL-1': { accepted: 10_466 }, '': { 'rejected:malformed_json': 1 } }]),
    { 'AL-1': { accepted: 20_978, 'bot:ua': 3 }, '': { 'rejected:malformed_json': 1 } },
  );
  assert.equal(sumIngest([null, undefined]), null);
});

test('aggregator stats of several workers: counts summed, newest event and last commit the latest', () => {
  const sum = sumAggregatorStats([stats(5, { a: 10, b: 30 }, 100), undefined, stats(7, { a: 20 }, null)]);
  assert.deepEqual(sum, { processed: 12, duplicates: 2, skippedBelowCheckpoint: 0, commits: 4, failedCommits: 0, fencedCommits: 0, newestEventTs: { a: 20, b: 30 }, lastCommitAt: 100, instances: 2 });
  assert.equal(sumAggregatorStats([]), null);
});
