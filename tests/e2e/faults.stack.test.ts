/**
 * Fault injection on the cluster profile: real services are stopped and started while the roles
 * (real `almanac start` processes) work, and the numbers must still come back exactly.
 *
 *   1. Kafka stopped for 10 s during ingest: 503 + Retry-After, never another 5xx, no crash;
 *      clients resend after Retry-After; every event counts exactly once, in rollups and archive.
 *   2. Redis stopped: ingest continues (local rate-limit buckets), queries answer uncached and
 *      correctly, /healthz says redis is down (degraded, still 200); after the restart the cache serves fresh numbers.
 *   3. Cassandra stopped during ingest: the collector keeps answering 202, the aggregator pauses
 *      (lag grows, commits fail), and after the restart the rollups catch up with exact counts.
 *
 * Each test has its own namespace (topic, keyspace, database, Redis prefix), dropped after it.
 * The roles run as separate processes, like tests/e2e/cluster-known-truth.stack.test.ts:
 * collector+admin / archiver+aggregator / query (test 3 adds admin to the aggregator's process,
 * because only that process reports the aggregator's counters in /api/admin/status).
 * Every stopped service is started again in a `finally`; `npm run stack -- up` also runs before
 * each test and in the file's `after`. Other stack tests stop services too: run this file alone
 * (scripts/run-tests.mjs runs test files one at a time).
 *
 * The stack commands run asynchronously (execFile, not execFileSync), so the senders keep sending
 * while a service stops and starts.
 */
import { after, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { generateTraffic, type Traffic } from '../support/traffic.ts';
import { assertStatsMatchTruth, sendAsBrowsers } from '../support/truth.ts';
import { freshNamespace, startRoleProcess, type Namespace, type RoleProcess } from '../support/cluster.ts';
import { getJson, pool, waitFor } from '../support/appliance.ts';
import { HOUR_MS } from '../../core/time.ts';
import { Kafka, logLevel } from 'kafkajs';
import { sleep } from '../../core/async.ts';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const execFileP = promisify(execFile);

/** `npm run stack -- <args>`, without blocking the event loop (senders keep running meanwhile). */
async function stack(...args: string[]): Promise<void> {
  try {
    await execFileP('npm', ['run', '--silent', 'stack', '--', ...args], { cwd: root, timeout: 300_000 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`npm run stack -- ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/** Logs how long each phase of a test took (as test diagnostics). */
function phases(t: TestContext): (name: string) => void {
  let last = Date.now();
  return (name) => {
    const now = Date.now();
    t.diagnostic(`${name}: ${((now - last) / 1000).toFixed(1)} s`);
    last = now;
  };
}


// Whatever happened in a test, leave every service running.
after(async () => {
  await stack('up');
});

// ---------------------------------------------------------------- per-test setup

interface Roles {
  ns: Namespace;
  /** name → process, in start order. */
  processes: { name: string; p: RoleProcess }[];
}

/** A namespace of its own and the role processes, all stopped and dropped when the test ends. */
async function startRoles(t: TestContext, prefix: string, groups: string[]): Promise<Roles & { procs: RoleProcess[] }> {
  // Every service up to begin with (a no-op when they are; cheap insurance after an earlier failure).
  await stack('up');
  const ns = freshNamespace(prefix);
  const processes: Roles['processes'] = [];
  t.after(async () => {
    for (const { p } of [...processes].reverse()) await p.stop(); // no-op for those stopCleanly stopped
    await ns.drop();
  });
  // One after another: the first (admin) process creates the tenant, and the Cassandra schema
  // migrations of one keyspace should not race.
  for (const roles of groups) processes.push({ name: roles, p: await startRoleProcess(ns.env, roles) });
  return { ns, processes, procs: processes.map((x) => x.p) };
}

/**
 * Stops every role process with SIGTERM, as a process manager would: each must exit 0, promptly
 * (after a Cassandra restart a node used to hang on a socket cassandra-driver leaked, until SIGKILL).
 */
async function stopCleanly(t: TestContext, roles: Roles): Promise<void> {
  const stops: string[] = [];
  for (const { name, p } of [...roles.processes].reverse()) {
    const t0 = Date.now();
    const code = await p.stop();
    const took = Date.now() - t0;
    stops.push(`${name} ${took} ms`);
    assert.equal(code, 0, `almanac --roles ${name}: exit code on SIGTERM (null: killed after 30 s)`);
    assert.ok(took < 15_000, `almanac --roles ${name} took ${took} ms to exit on SIGTERM`);
  }
  t.diagnostic(`SIGTERM to exit: ${stops.join(', ')}`);
}

/** Runs `fn`; on failure, appends the tail of every role process's output to the error. */
async function explained<T>(roles: Roles, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    // kafkajs repeats its connection errors for as long as Kafka is down: leave those out.
    const noisy = /kafka ERROR \[(Connection|BrokerPool)\]/;
    const tails = roles.processes
      .map(({ name, p }) => {
        const lines = p.output().split('\n');
        const kept = lines.filter((l) => !noisy.test(l)).join('\n');
        return `--- almanac --roles ${name} (exit ${p.child.exitCode ?? 'running'}), last 6000 chars of its output (${lines.length - kept.split('\n').length} kafkajs connection-error lines left out):\n${kept.slice(-6000)}`;
      })
      .join('\n');
    if (err instanceof Error) err.message += `\n${tails}`;
    throw err;
  }
}

// ---------------------------------------------------------------- HTTP helpers

interface AdminStatus {
  partitions: number;
  aggregatorLag: number[];
  aggregator: { processed: number; duplicates: number; skippedBelowCheckpoint: number; commits: number; failedCommits: number; lastCommitAt: number | null } | null;
  ingest: unknown;
}

async function adminStatus(url: string, apiKey: string): Promise<AdminStatus> {
  const r = await getJson(`${url}/api/admin/status`, apiKey);
  if (r.status !== 200) throw new Error(`GET /api/admin/status answered ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body as AdminStatus;
}

/** Waits until the aggregator has committed every record of the log (lag 0 on every partition). */
async function waitForZeroLag(adminUrl: string, apiKey: string, timeoutMs: number): Promise<AdminStatus> {
  let status: AdminStatus | undefined;
  let problem = 'no answer yet';
  const ok = await waitFor(async () => {
    try {
      status = await adminStatus(adminUrl, apiKey);
      problem = JSON.stringify(status);
      return status.aggregatorLag.every((l) => l === 0);
    } catch (err) {
      problem = (err as Error).message;
      return false;
    }
  }, timeoutMs, 500);
  assert.ok(ok && status, `aggregator lag not 0 after ${timeoutMs} ms: ${problem}`);
  return status;
}

async function health(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: await res.json() };
}

async function waitForArchive(ns: Namespace, trackingId: string, expected: number, timeoutMs: number): Promise<void> {
  const archived = () => ns.countArchived(trackingId);
  assert.ok(await waitFor(async () => (await archived()) >= expected, timeoutMs, 500), `archive holds ${await archived()} of ${expected} events after ${timeoutMs} ms`);
  assert.equal(await archived(), expected, 'archive count');
}

/** Records in the namespace's event-log topic (sum of the partitions' end offsets). */
async function logRecords(ns: Namespace): Promise<number> {
  const admin = new Kafka({ brokers: ns.env.ALMANAC_KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(`${ns.name}.events`)).reduce((sum, o) => sum + Number(o.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/** A range covering the traffic, as assertStatsMatchTruth builds it. */
function rangeOf(traffic: Pick<Traffic, 'from' | 'to'>): string {
  return `from=${new Date(traffic.from - HOUR_MS).toISOString()}&to=${new Date(traffic.to + HOUR_MS).toISOString()}`;
}

/** Two generated traffics with disjoint visitors, as one traffic with the summed truth. */
function combine(a: Traffic, b: Traffic): Traffic {
  const truth = { ...a.truth };
  for (const k of Object.keys(truth) as (keyof Traffic['truth'])[]) truth[k] += b.truth[k];
  return { sends: [...a.sends, ...b.sends], truth, from: Math.min(a.from, b.from), to: Math.max(a.to, b.to) };
}

/** Moves a traffic's visitors to other IP addresses (10.x → <first>.x), so they are new visitors. */
function moveVisitors(traffic: Traffic, first: number): Traffic {
  for (const v of new Set(traffic.sends.map((s) => s.visitor))) v.ip = v.ip.replace(/^10\./, `${first}.`);
  return traffic;
}

// ---------------------------------------------------------------- a paced browser-like sender

interface Attempt {
  status: number; // 0: no HTTP answer (connection refused/reset, timeout)
  retryAfter: string | null;
  at: number;
  error?: string;
}

interface Sending {
  attempts: Attempt[];
  /** eventId → final status (0 if the sender gave up without an answer). */
  final: Map<string, number>;
  /** Events that got 202 after at least one 503 (resent after Retry-After). */
  resentAfter503: number;
  accepted(): number;
  done: Promise<void>;
}

/**
 * Sends the traffic as browsers would (one visitor's events in order), paced at `ratePerSec`, and
 * records every attempt. 503 and 429 are resent with the same eventId after Retry-After, as real
 * clients do; after `giveUpAt` the sender stops retrying.
 */
function sendPaced(collectorUrl: string, traffic: Traffic, o: { ratePerSec: number; giveUpAt: number; concurrency?: number }): Sending {
  const s: Sending = {
    attempts: [],
    final: new Map(),
    resentAfter503: 0,
    accepted: () => [...s.final.values()].filter((x) => x === 202).length,
    done: Promise.resolve(),
  };
  const previous = new Map<string, Promise<void>>();
  const t0 = Date.now();
  s.done = pool(traffic.sends, o.concurrency ?? 24, async ({ visitor, event }, i) => {
    await sleep(t0 + (i * 1000) / o.ratePerSec - Date.now());
    const before = previous.get(visitor.ip) ?? Promise.resolve();
    const sent = before.then(async () => {
      let had503 = false;
      for (;;) {
        let attempt: Attempt;
        try {
          const res = await fetch(`${collectorUrl}/api/event`, {
            method: 'POST',
            headers: { 'content-type': 'text/plain', origin: 'https://shop.example', 'user-agent': visitor.userAgent, 'x-forwarded-for': visitor.ip },
            body: JSON.stringify(event),
            signal: AbortSignal.timeout(20_000),
          });
          await res.arrayBuffer();
          attempt = { status: res.status, retryAfter: res.headers.get('retry-after'), at: Date.now() };
        } catch (err) {
          attempt = { status: 0, retryAfter: null, at: Date.now(), error: String((err as Error).cause ?? err) };
        }
        s.attempts.push(attempt);
        const retry = attempt.status === 0 || attempt.status === 429 || attempt.status === 503;
        if (!retry || Date.now() > o.giveUpAt) {
          s.final.set(event.eventId, attempt.status);
          if (attempt.status === 202 && had503) s.resentAfter503++;
          return;
        }
        if (attempt.status === 503) had503 = true;
        await sleep(attempt.retryAfter ? Number(attempt.retryAfter) * 1000 : 1000);
      }
    });
    previous.set(visitor.ip, sent);
    await sent;
  });
  return s;
}

function countBy(attempts: readonly Attempt[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const a of attempts) out[a.status] = (out[a.status] ?? 0) + 1;
  return out;
}

async function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not done after ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------- 1. Kafka

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
