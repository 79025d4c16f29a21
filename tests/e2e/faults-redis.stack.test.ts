/**
 * Fault injection on the cluster profile, Redis: stopped, ingest continues (local rate-limit
 * buckets), queries answer uncached and correctly, /healthz says redis is down (degraded, still
 * 200); after the restart the cache serves fresh numbers. *
 * Each test has its own namespace (topic, keyspace, database, Redis prefix), dropped after it.
 * The roles run as separate processes, like tests/e2e/cluster-known-truth.stack.test.ts:
 * collector+admin / archiver+aggregator / query. Every stopped service is started again in a
 * `finally`; `npm run stack -- up` also runs in the file's `after`. Other stack tests stop
 * services too: run these files alone (scripts/run-tests.mjs runs test files one at a time).
 * The shared harness is tests/support/faults.ts.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { generateTraffic } from '../support/traffic.ts';
import { assertStatsMatchTruth, sendAsBrowsers } from '../support/truth.ts';
import { getJson, waitFor } from '../support/appliance.ts';
import { HOUR_MS } from '../../core/time.ts';
import { sleep } from '../../core/async.ts';
import { stack, phases, startRoles, stopCleanly, explained, waitForZeroLag, health, rangeOf, combine, moveVisitors, restartEveryService } from '../support/faults.ts';

after(restartEveryService);

test('Redis stopped: ingest and queries go on uncached, /healthz says so, and the cache is fresh after the restart', { timeout: 150_000 }, async (t) => {
  const phase = phases(t);
  const roles = await startRoles(t, 'fr', ['collector,admin', 'archiver,aggregator', 'query']);
  const [collector, , query] = roles.procs;
  phase('start the role processes');
  await explained(roles, async () => {
    const { trackingId, adminApiKey, serverKey } = collector.credentials();
    const start = Date.now() - 40 * HOUR_MS;
    const before = generateTraffic({ trackingId, events: 1_000, visitors: 200, start, spanMs: 30 * HOUR_MS, seed: 31 });
    const during = moveVisitors(generateTraffic({ trackingId, events: 1_000, visitors: 200, start, spanMs: 30 * HOUR_MS, seed: 32 }), 11);
    const both = combine(before, during);
    // The range covers both traffics and is closed (long cache TTL), so a stale answer would stick.
    const aggregateUrl = `${query.url}/api/v1/stats/aggregate?site_id=${trackingId}&${rangeOf(both)}&metrics=visitors,visits,pageviews,events,bounce_rate,revenue`;
    const aggregate = async () => {
      const res = await fetch(aggregateUrl, { headers: { authorization: `Bearer ${adminApiKey}` } });
      return { status: res.status, cache: res.headers.get('x-almanac-cache'), body: (await res.json()) as any };
    };

    // With Redis up: the collector fetches today's salt, the numbers arrive, the answer is cached.
    assert.deepEqual(await sendAsBrowsers(collector.url, before), { 202: before.sends.length });
    await waitForZeroLag(collector.url, adminApiKey, 60_000);
    await assertStatsMatchTruth(query.url, adminApiKey, trackingId, before, 30_000);
    const cachedBefore = await aggregate();
    assert.equal(cachedBefore.status, 200);
    assert.equal((await aggregate()).cache, 'hit', 'a repeated query is answered from the cache while Redis is up');
    phase('1,000 events with Redis up, exact, cached');

    try {
      await stack('stop', 'redis');
      const stoppedAt = Date.now();

      // /healthz reports Redis down (on a collector node and a query node alike) as "degraded":
      // still 200, since both roles work without it and a load balancer must keep them.
      for (const p of [collector, query]) {
        let last: unknown;
        const down = await waitFor(async () => {
          const h = await health(p.url);
          last = h;
          return h.status === 200 && h.body.status === 'degraded' && h.body.services?.redis === false;
        }, 15_000, 250);
        assert.ok(down, `/healthz of ${p.url} does not report redis down: ${JSON.stringify(last)}`);
      }

      // Ingest goes on: every event 202, none answered 503.
      assert.deepEqual(await sendAsBrowsers(collector.url, during), { 202: during.sends.length });

      // Rate limiting falls back to the process's own buckets (it does not fail open): 8 batches of
      // 500 at once are more than the burst of 2,000, so some get 429 with Retry-After; resent, all count.
      const burstTs = Date.now() - 60 * HOUR_MS;
      const batches = Array.from({ length: 8 }, (_, b) =>
        Array.from({ length: 500 }, (_, i) => ({ eventId: randomUUID(), trackingId, url: `https://shop.example/burst/${b}`, ts: burstTs + b * 1000 + i })));
      const burstStatuses: number[] = [];
      await Promise.all(batches.map(async (events, b) => {
        for (;;) {
          const res = await fetch(`${collector.url}/api/batch`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-almanac-key': serverKey, 'x-almanac-client-ip': `12.0.0.${b + 1}` },
            body: JSON.stringify(events),
          });
          const body = (await res.json()) as any;
          burstStatuses.push(res.status);
          if (res.status === 429) {
            assert.ok(Number(res.headers.get('retry-after')) > 0, '429 without Retry-After');
            await sleep(Number(res.headers.get('retry-after')) * 1000);
            continue;
          }
          assert.equal(res.status, 202, JSON.stringify(body));
          assert.equal(body.accepted, 500);
          return;
        }
      }));
      t.diagnostic(`burst statuses while Redis was down: ${JSON.stringify(burstStatuses)}`);
      assert.ok(burstStatuses.includes(429), `no 429 from the local rate-limit buckets: ${JSON.stringify(burstStatuses)}`);

      // Queries answer correctly, from the store (miss every time, even when repeated).
      await waitForZeroLag(collector.url, adminApiKey, 60_000);
      await assertStatsMatchTruth(query.url, adminApiKey, trackingId, both, 30_000);
      for (let i = 0; i < 2; i++) {
        const a = await aggregate();
        assert.equal(a.status, 200);
        assert.equal(a.cache, 'miss', 'answered from the cache while Redis is down?');
        assert.equal(a.body.results.pageviews.value, both.truth.pageviews);
      }
      const burstUrl = `${query.url}/api/v1/stats/aggregate?site_id=${trackingId}&from=${new Date(burstTs - HOUR_MS).toISOString()}&to=${new Date(burstTs + HOUR_MS).toISOString()}&metrics=pageviews`;
      const burst = await getJson(burstUrl, adminApiKey);
      assert.equal(burst.body.results?.pageviews?.value, 4_000, `burst pageviews: ${JSON.stringify(burst.body)}`);
      t.diagnostic(`Redis down for ${Date.now() - stoppedAt} ms`);
    } finally {
      await stack('start', 'redis');
    }
    phase('Redis stopped: 5,000 events in, exact and uncached; Redis started');
    const upAt = Date.now();

    // Back: /healthz recovers, and the cache serves the numbers written while Redis was down (the
    // answer cached before the outage must not come back: the aggregator's data-version bumps
    // failed while Redis was down and are retried until they land), then hits again.
    for (const p of [collector, query]) {
      let last: unknown;
      const ok = (h: any) => h.status === 200 && h.body.status === 'ok';
      assert.ok(await waitFor(async () => ok((last = await health(p.url))), 15_000, 250), `/healthz of ${p.url} after Redis restarted: ${JSON.stringify(last)}`);
      assert.equal((last as any).body.services.redis, true);
    }
    let after: Awaited<ReturnType<typeof aggregate>> | undefined;
    const fresh = await waitFor(async () => {
      after = await aggregate();
      return after.status === 200 && after.body.results.pageviews.value === both.truth.pageviews;
    }, 10_000, 250);
    t.diagnostic(`after Redis restarted, the first fresh answer came ${Date.now() - upAt} ms later (cache ${after?.cache})`);
    assert.ok(fresh, `after Redis restarted the query answers ${after?.body.results?.pageviews?.value} pageviews (cache ${after?.cache}), want ${both.truth.pageviews}; before the outage it was ${cachedBefore.body.results.pageviews.value}`);
    const cachedAgain = await waitFor(async () => (await aggregate()).cache === 'hit', 10_000, 250);
    assert.ok(cachedAgain, 'the cache is not used again after Redis restarted');
    const hit = await aggregate();
    assert.equal(hit.body.results.pageviews.value, both.truth.pageviews);
    await stopCleanly(t, roles);
  });
});

// ---------------------------------------------------------------- 3. Cassandra
