/**
 * Fault injection on the cluster profile, Kafka: stopped for 10 s during ingest, the collector
 * answers 503 + Retry-After, never another 5xx, no crash; clients resend after Retry-After;
 * every event counts exactly once, in rollups and archive. *
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
import { stack, phases, startRoles, stopCleanly, explained, waitForZeroLag, health, waitForArchive, logRecords, sendPaced, countBy, bounded, restartEveryService } from '../support/faults.ts';

after(restartEveryService);

test('Kafka stopped for 10 s during ingest: 503 + Retry-After, then every accepted event counts exactly once', { timeout: 180_000 }, async (t) => {
  const phase = phases(t);
  const roles = await startRoles(t, 'fk', ['collector,admin', 'archiver,aggregator', 'query']);
  const [collector, , query] = roles.procs;
  phase('start the role processes');
  await explained(roles, async () => {
    const { trackingId, adminApiKey } = collector.credentials();
    const traffic = generateTraffic({ trackingId, events: 3_000, visitors: 500, start: Date.now() - 40 * HOUR_MS, spanMs: 30 * HOUR_MS, seed: 21 });
    const sending = sendPaced(collector.url, traffic, { ratePerSec: 150, giveUpAt: Date.now() + 90_000 });

    // Some traffic gets through first, then Kafka goes away for 10 s while the sender goes on.
    assert.ok(await waitFor(async () => sending.accepted() >= 300, 30_000), `only ${sending.accepted()} events accepted before the outage`);
    const outage = { stoppedAt: 0, startingAt: 0, upAt: 0 };
    try {
      await stack('stop', 'kafka');
      outage.stoppedAt = Date.now();
      await sleep(10_000);
    } finally {
      outage.startingAt = Date.now();
      await stack('start', 'kafka');
      outage.upAt = Date.now();
    }
    phase('ingest, Kafka stopped, down 10 s, started');
    await bounded(sending.done, 100_000, 'the sender');
    phase('sender done (503s resent)');

    const byStatus = countBy(sending.attempts);
    t.diagnostic(`attempts by status ${JSON.stringify(byStatus)}; resent after 503 and then accepted: ${sending.resentAfter503}; outage ${outage.startingAt - outage.stoppedAt} ms, start took ${outage.upAt - outage.startingAt} ms`);
    // During the outage: 503s, each with Retry-After; never another 5xx; every request answered.
    const during = sending.attempts.filter((a) => a.at >= outage.stoppedAt && a.at <= outage.upAt);
    assert.ok(during.some((a) => a.status === 503), `no 503 while Kafka was down: ${JSON.stringify(countBy(during))}`);
    const unavailable = sending.attempts.filter((a) => a.status === 503);
    assert.ok(unavailable.every((a) => a.retryAfter !== null && Number(a.retryAfter) > 0), '503 without Retry-After');
    assert.deepEqual(sending.attempts.filter((a) => a.status >= 500 && a.status !== 503), [], 'a 5xx other than 503');
    assert.deepEqual(sending.attempts.filter((a) => a.status === 0), [], 'requests without an HTTP answer (collector down?)');
    assert.equal(collector.child.exitCode, null, 'the collector process exited');
    assert.equal((await health(collector.url)).status, 200, 'collector /healthz after the outage');

    // Every event was finally accepted (503s resent after Retry-After).
    assert.ok(sending.resentAfter503 > 0, 'no event was resent after a 503');
    assert.deepEqual(countBy([...sending.final.values()].map((status) => ({ status, retryAfter: null, at: 0 }))), { 202: traffic.sends.length });

    // Once the aggregator has committed the whole log, the rollups hold every event exactly once:
    // an event whose 503'd attempt reached the log anyway is deduplicated by its eventId.
    const status = await waitForZeroLag(collector.url, adminApiKey, 90_000);
    phase('aggregator caught up (lag 0)');
    // The collector's own counters agree with what the sender saw.
    const ingest = (status.ingest as Record<string, Record<string, number>>)[trackingId];
    assert.equal(ingest?.accepted, traffic.sends.length, `ingest counters ${JSON.stringify(status.ingest)}`);
    assert.equal(ingest?.['rejected:unavailable'], byStatus[503], `ingest counters ${JSON.stringify(status.ingest)}`);
    // More records than events means a 503'd append reached Kafka anyway; its resend is then a duplicate.
    t.diagnostic(`event-log records: ${await logRecords(roles.ns)} for ${traffic.sends.length} events`);
    await assertStatsMatchTruth(query.url, adminApiKey, trackingId, traffic, 30_000);
    await waitForArchive(roles.ns, trackingId, traffic.sends.length, 30_000);
    // Still exact a moment later (nothing left to count twice).
    await sleep(2_000);
    await assertStatsMatchTruth(query.url, adminApiKey, trackingId, traffic, 5_000);
    phase('stats and archive exact');
    await stopCleanly(t, roles);
  });
});

// ---------------------------------------------------------------- 2. Redis
