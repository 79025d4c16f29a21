/**
 * Fault injection on the cluster profile, Cassandra: stopped during ingest, the collector keeps
 * answering 202, the aggregator pauses (lag grows, commits fail), and after the restart the
 * rollups catch up with exact counts (admin runs in the aggregator's process here, because only
 * that process reports the aggregator's counters in /api/admin/status). *
 * Each test has its own namespace (topic, keyspace, database, Redis prefix), dropped after it.
 * The roles run as separate processes, like tests/e2e/cluster-known-truth.stack.test.ts:
 * collector+admin / archiver+aggregator / query. Every stopped service is started again in a
 * `finally`; `npm run stack -- up` also runs in the file's `after`. Other stack tests stop
 * services too: run these files alone (scripts/run-tests.mjs runs test files one at a time).
 * The shared harness is tests/support/faults.ts.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateTraffic } from '../support/traffic.ts';
import { assertStatsMatchTruth } from '../support/truth.ts';
import { waitFor } from '../support/appliance.ts';
import { HOUR_MS } from '../../core/time.ts';
import { sleep } from '../../core/async.ts';
import { stack, phases, startRoles, stopCleanly, explained, adminStatus, waitForZeroLag, health, waitForArchive, sendPaced, countBy, bounded, type AdminStatus, restartEveryService } from '../support/faults.ts';

after(restartEveryService);

test('Cassandra stopped during ingest: 202s go on, the aggregator pauses, then catches up exactly', { timeout: 240_000 }, async (t) => {
  // admin on the aggregator's process too: its /api/admin/status carries the aggregator's counters.
  const phase = phases(t);
  const roles = await startRoles(t, 'fc', ['collector,admin', 'archiver,aggregator,admin', 'query']);
  const [collector, pipeline, query] = roles.procs;
  phase('start the role processes');
  await explained(roles, async () => {
    const { trackingId, adminApiKey } = collector.credentials();
    const traffic = generateTraffic({ trackingId, events: 2_400, visitors: 400, start: Date.now() - 40 * HOUR_MS, spanMs: 30 * HOUR_MS, seed: 41 });
    const sending = sendPaced(collector.url, traffic, { ratePerSec: 120, giveUpAt: Date.now() + 120_000 });

    assert.ok(await waitFor(async () => sending.accepted() >= 300, 30_000), `only ${sending.accepted()} events accepted before the outage`);
    const beforeOutage = await adminStatus(pipeline.url, adminApiKey);
    assert.ok(beforeOutage.aggregator, 'the aggregator process reports no aggregator stats');
    let maxLag = 0;
    let duringOutage: AdminStatus | undefined;
    const timing = { stopTook: 0, startTook: 0 };
    try {
      const t0 = Date.now();
      await stack('stop', 'cassandra');
      timing.stopTook = Date.now() - t0;
      // Down for 10 s while the sender goes on; watch the aggregator stall.
      const until = Date.now() + 10_000;
      while (Date.now() < until) {
        duringOutage = await adminStatus(pipeline.url, adminApiKey);
        maxLag = Math.max(maxLag, duringOutage.aggregatorLag.reduce((a, b) => a + b, 0));
        await sleep(500);
      }
      // /healthz per role: the collector needs no Cassandra and stays in rotation; the
      // aggregator's node cannot work without it and says so.
      const [collectorHealth, pipelineHealth] = await Promise.all([health(collector.url), health(pipeline.url)]);
      assert.equal(collectorHealth.status, 200, `collector /healthz while Cassandra is down: ${JSON.stringify(collectorHealth.body)}`);
      assert.equal(pipelineHealth.status, 503, `aggregator /healthz while Cassandra is down: ${JSON.stringify(pipelineHealth.body)}`);
      assert.equal(pipelineHealth.body.status, 'unavailable');
    } finally {
      const t1 = Date.now();
      await stack('start', 'cassandra');
      timing.startTook = Date.now() - t1;
    }
    phase('ingest, Cassandra stopped, down 10 s, started');
    t.diagnostic(`cassandra stop took ${timing.stopTook} ms, start ${timing.startTook} ms; max lag during the outage ${maxLag}; aggregator then ${JSON.stringify(duringOutage?.aggregator)}`);

    // The aggregator paused: lag grew and commits failed (and were retried).
    assert.ok(maxLag >= 100, `aggregator lag did not grow while Cassandra was down (max ${maxLag})`);
    assert.ok(duringOutage!.aggregator!.failedCommits > beforeOutage.aggregator!.failedCommits, 'no failed commit while Cassandra was down');

    await bounded(sending.done, 120_000, 'the sender');
    // The collector never needed Cassandra: every attempt was answered 202.
    assert.deepEqual(countBy(sending.attempts), { 202: traffic.sends.length }, 'collector answers while Cassandra was down');

    // Catch-up: lag back to 0, and the rollups exact (no gaps in the hourly series, no double counts).
    phase('sender done');
    const caughtUp = await waitForZeroLag(pipeline.url, adminApiKey, 120_000);
    phase('aggregator caught up (lag 0)');
    t.diagnostic(`after catching up: ${JSON.stringify(caughtUp.aggregator)}`);
    assert.equal(caughtUp.aggregator!.duplicates, 0, 'events counted as duplicates though none was sent twice');
    await assertStatsMatchTruth(query.url, adminApiKey, trackingId, traffic, 60_000);
    phase('stats exact');
    await waitForArchive(roles.ns, trackingId, traffic.sends.length, 30_000);
    await sleep(2_000);
    await assertStatsMatchTruth(query.url, adminApiKey, trackingId, traffic, 5_000);
    phase('archive exact, stats still exact');
    await stopCleanly(t, roles);
  });
});
