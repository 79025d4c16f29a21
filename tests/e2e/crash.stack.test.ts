/**
 * Exactly once under crashes and a consumer-group rebalance (cluster profile, roles as processes).
 *
 * The cluster-profile twin of tests/e2e/crash.test.ts. Three kinds of role processes share one
 * namespace (topic, keyspace, database, Redis prefix) on the native stack:
 *   - `collector,admin` (stays up): /api/batch and /api/admin/status (aggregatorLag from Kafka);
 *   - `archiver` (stays up);
 *   - `aggregator` — SIGKILLed at random moments and started again, at least MIN_KILLS times
 *     while the traffic arrives; for a while a SECOND aggregator instance joins the consumer group
 *     and later leaves it with SIGTERM (two rebalances while ingest runs).
 * The sender retries every failed request with the same events (same eventIds) and deliberately
 * sends about 10 % of the accepted batches again, some after a restart.
 *
 * Afterwards, once the aggregator group's lag is 0 (and stays 0) and the archive holds every
 * event, the cluster storage is opened read-side: every eventId must be archived exactly once,
 * and every stored bucket (totals, breakdowns, sketches) must equal computeRollups over the
 * archive, with no stored bucket the reference lacks; the visits kept must equal the reference's.
 *
 * CRASH_SEED=<n> repeats a run's traffic and kill timing; CRASH_EVENTS=<n> sets the volume.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../appliance/config.ts';
import { openStorage } from '../../appliance/profiles.ts';
import type { IncomingEvent } from '../../core/event.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../core/time.ts';
import { LOGIC_VERSION } from '../../pipeline/logic-version.ts';
import { computeRollups } from '../../pipeline/rollup/index.ts';
import { archivedEvents, compareBuckets, storedBuckets } from '../../pipeline/replay/test-support.ts';
import { freshNamespace, startRoleProcess, type Namespace, type RoleProcess } from '../support/cluster.ts';
import { generateTraffic, type GeneratedVisitor, rng } from '../support/traffic.ts';

// 50k by default: on the 2-core machine every SIGKILL costs ~30 s (Kafka's session timeout of the
// dead member, measured) before the restarted aggregator is healthy, and the read-side scan of the
// archive through FerretDB takes ~80 s for 50k events, so 100k would not fit in ~4 minutes.
const EVENTS = Number(process.env.CRASH_EVENTS ?? 50_000);
// First sends are paced over this long, so that the kills (~30 s each) land while events arrive.
const SEND_MS = Number(process.env.CRASH_SEND_SECONDS ?? 150) * 1000;
const VISITORS = Math.round(EVENTS / 25);
const BATCH = 100;
const MIN_KILLS = 5;
const CONCURRENCY = 12;
const SEED = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 1e9));
const OPTIONS = { sessionTimeoutMs: 30 * MINUTE_MS, topK: 100, logicVersion: LOGIC_VERSION };
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const bin = path.join(root, 'appliance/bin/almanac.mjs');

let ns: Namespace | undefined;
const processes = new Set<RoleProcess>();
const dirs: string[] = [];
after(async () => {
  for (const p of processes) await p.stop('SIGKILL').catch(() => {});
  if (ns) await ns.drop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

interface Batch {
  index: number;
  visitor: GeneratedVisitor;
  events: IncomingEvent[];
}

test(`cluster: SIGKILL the aggregator at random moments and rebalance its group while ${EVENTS} events arrive: every bucket equals the reference over the archive, every eventId archived once`, { timeout: 600_000 }, async () => {
  const started = Date.now();
  const at = () => `+${((Date.now() - started) / 1000).toFixed(1)} s`;
  const random = rng(SEED);
  console.log(`cluster crash test: seed ${SEED} (repeat with CRASH_SEED=${SEED}), ${EVENTS} events, ${VISITORS} visitors`);
  ns = freshNamespace('crash');
  const env = ns.env;
  const cliDir = mkdtempSync(path.join(os.tmpdir(), 'almanac-crash-cli-'));
  dirs.push(cliDir);
  const cli = (args: string[]): string => {
    const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, ...env, ALMANAC_DATA_DIR: cliDir }, encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`almanac ${args.join(' ')} exited with ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };

  // Every process that ever ran, with its output, for the failure report.
  const ran: { name: string; p: RoleProcess }[] = [];
  const start = async (name: string, roles: string): Promise<RoleProcess> => {
    const p = await startRoleProcess(env, roles);
    processes.add(p);
    ran.push({ name, p });
    return p;
  };
  const stop = async (p: RoleProcess, signal: NodeJS.Signals): Promise<number | null> => {
    const code = await p.stop(signal);
    processes.delete(p);
    return code;
  };
  const fail = (message: string): never => {
    const noisy = /kafka ERROR \[(Connection|BrokerPool)\]/;
    const tails = ran.slice(-6).map(({ name, p }) =>
      `--- ${name} (exit ${p.child.exitCode ?? p.child.signalCode ?? 'running'}), output tail:\n${p.output().split('\n').filter((l) => !noisy.test(l)).slice(-30).join('\n')}`).join('\n');
    return assert.fail(`${message}\n${tails}`);
  };

  try {
    // One after another: the Cassandra schema migrations of one keyspace should not race.
    const collector = await start('collector,admin', 'collector,admin');
    const { adminApiKey } = collector.credentials();
    await start('archiver', 'archiver');
    let aggregator = await start('aggregator #1', 'aggregator');
    let aggregatorStarts = 1;
    const tenant = JSON.parse(cli(['tenants', 'create', '--name', 'crash', '--rate-limit', '1000000'])) as { id: string };
    const site = JSON.parse(cli(['tracking-ids', 'create', '--tenant', tenant.id, '--name', 'crash', '--origins', '*'])) as { id: string; serverKey: string };
    console.log(`${at()}: roles up (namespace ${ns.name})`);

    const status = async (): Promise<any> =>
      fetch(`${collector.url}/api/admin/status`, { headers: { authorization: `Bearer ${adminApiKey}` }, signal: AbortSignal.timeout(10_000) })
        .then((r) => (r.ok ? (r.json() as Promise<any>) : null), () => null);
    const lagOf = (s: any) => (Array.isArray(s?.aggregatorLag) ? (s.aggregatorLag as number[]).reduce((a, b) => a + b, 0) : '?');

    // Traffic in the past (well inside the 72 h accepted), each visitor's events in time order.
    const now = Date.now();
    const traffic = generateTraffic({ trackingId: site.id, events: EVENTS, visitors: VISITORS, start: now - 60 * HOUR_MS, spanMs: 50 * HOUR_MS, seed: SEED });
    const sends = traffic.sends.filter((s) => s.event.ts! < now - 2 * MINUTE_MS);
    const byVisitor = new Map<string, { visitor: GeneratedVisitor; events: IncomingEvent[] }>();
    for (const s of sends) {
      const v = byVisitor.get(s.visitor.ip) ?? byVisitor.set(s.visitor.ip, { visitor: s.visitor, events: [] }).get(s.visitor.ip)!;
      v.events.push(s.event);
    }
    const queues: Batch[][] = [];
    let batchCount = 0;
    for (const { visitor, events } of byVisitor.values()) {
      const q: Batch[] = [];
      for (let i = 0; i < events.length; i += BATCH) q.push({ index: batchCount++, visitor, events: events.slice(i, i + BATCH) });
      queues.push(q);
    }
    const expected = { pageviews: sends.filter((s) => s.event.type === 'pageview').length, events: sends.filter((s) => s.event.type === 'event').length };

    // --- the sender: retries until accepted, same events every time ---
    const accepted = new Set<string>();
    let acceptedBatches = 0;
    let retries = 0;
    let duplicatesSent = 0;
    const failures = new Map<string, number>();
    const dupes: Batch[] = [];
    async function send(batch: Batch, why: 'first' | 'duplicate'): Promise<void> {
      const until = Date.now() + 90_000;
      for (let attempt = 0; ; attempt++) {
        let code = 0;
        let body: any;
        try {
          const res = await fetch(`${collector.url}/api/batch`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'x-almanac-key': site.serverKey,
              'x-almanac-client-ip': batch.visitor.ip,
              'x-almanac-user-agent': batch.visitor.userAgent,
            },
            body: JSON.stringify(batch.events),
            signal: AbortSignal.timeout(20_000),
          });
          code = res.status;
          body = await res.json().catch(() => undefined);
        } catch (err) {
          const c = String((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name);
          failures.set(c, (failures.get(c) ?? 0) + 1);
        }
        if (code === 202) {
          if (body?.accepted !== batch.events.length || body.rejected?.length) {
            fail(`batch ${batch.index} (${why}): 202 but ${JSON.stringify(body).slice(0, 500)}`);
          }
          if (why === 'first') {
            for (const e of batch.events) accepted.add(e.eventId!);
            acceptedBatches++;
          } else duplicatesSent++;
          return;
        }
        if (code !== 0 && code !== 503 && code !== 429) fail(`batch ${batch.index} (${why}): status ${code} ${JSON.stringify(body).slice(0, 500)}`);
        if (code !== 0) failures.set(String(code), (failures.get(String(code)) ?? 0) + 1);
        if (Date.now() > until) fail(`batch ${batch.index} (${why}) not accepted after 90 s of retries (last status ${code})`);
        retries++;
        await sleep(100 + Math.floor(random() * 200));
      }
    }

    // The last tenth of the visitors waits until MIN_KILLS kills and the rebalance (join + leave)
    // have happened while sending.
    let sendingDone = false;
    let inFlight = 0;
    let killsWhileSending = 0;
    let rebalanceDone = false;
    const holdBack = Math.floor(queues.length * 0.9);
    let firstSends = 0;
    const sendingStarted = Date.now();
    const interval = SEND_MS / batchCount;
    const sender = (async () => {
      let next = 0;
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        while (next < queues.length) {
          if (next >= holdBack) {
            const until = Date.now() + 180_000;
            while (killsWhileSending < MIN_KILLS || !rebalanceDone) {
              if (Date.now() > until) fail(`only ${killsWhileSending} kills (rebalance done: ${rebalanceDone}) while sending after 180 s`);
              await sleep(100);
            }
          }
          if (next >= queues.length) break;
          for (const batch of queues[next++]) {
            await sleep(sendingStarted + firstSends++ * interval - Date.now());
            inFlight++;
            await send(batch, 'first').finally(() => inFlight--);
            // ~10 % go again: half right away, half after the next aggregator restart.
            const r = random();
            if (r < 0.05) await send(batch, 'duplicate');
            else if (r < 0.1) dupes.push(batch);
          }
        }
      }));
      sendingDone = true;
    })();

    // --- the killer: SIGKILL the aggregator at random moments and start it again; a second ---
    // --- instance joins after the 2nd kill and leaves (SIGTERM) after the 4th ---
    const kills: string[] = [];
    const rebalances: string[] = [];
    let second: RoleProcess | undefined;
    const killer = (async () => {
      for (let afterSending = 0; afterSending < 1; ) {
        if (sendingDone) afterSending++;
        await sleep(1000 + Math.floor(random() * 4000));
        const s = await status();
        const during = !sendingDone;
        const requests = inFlight;
        const killed = await stop(aggregator, 'SIGKILL');
        if (during) killsWhileSending++;
        const line = `kill #${kills.length + 1} at ${at()} ${during ? `while sending (${requests} batches in flight)` : 'after sending (catch-up)'}: ` +
          `${acceptedBatches}/${batchCount} batches accepted; just before: aggregator lag ${lagOf(s)} ${JSON.stringify(s?.aggregatorLag)}` +
          `${second ? ', second instance running' : ''}; exit ${killed}`;
        kills.push(line);
        console.log(line);
        aggregator = await start(`aggregator #${++aggregatorStarts}`, 'aggregator');
        for (const batch of dupes.splice(0)) await send(batch, 'duplicate');
        if (kills.length === 2 && !second) {
          second = await start('aggregator (second instance)', 'aggregator');
          const line2 = `rebalance: second aggregator joined at ${at()}, lag ${lagOf(await status())}`;
          rebalances.push(line2);
          console.log(line2);
        } else if (kills.length >= 4 && second) {
          await sleep(Math.floor(random() * 2000));
          const code = await stop(second, 'SIGTERM');
          second = undefined;
          const line2 = `rebalance: second aggregator left (SIGTERM, exit ${code}) at ${at()}, lag ${lagOf(await status())}`;
          rebalances.push(line2);
          console.log(line2);
          rebalanceDone = true;
        }
      }
    })();
    await Promise.all([sender, killer]);
    for (const batch of dupes.splice(0)) await send(batch, 'duplicate');
    console.log(`sent: ${acceptedBatches} batches (${accepted.size} events) accepted, ${duplicatesSent} duplicate batches, ${retries} retries; failures ${JSON.stringify(Object.fromEntries(failures))}; ${kills.length} kills, ${rebalances.length} rebalances by ${at()}`);
    assert.equal(accepted.size, sends.length);
    assert.ok(killsWhileSending >= MIN_KILLS, `${killsWhileSending} kills while sending`);
    assert.equal(rebalances.length, 2);

    // --- catch-up: the aggregator group's lag is 0 for 3 s, the archive holds everything ---
    let zeroSince = 0;
    let last: any;
    let until = Date.now() + 180_000;
    for (;;) {
      last = await status();
      const zero = Array.isArray(last?.aggregatorLag) && last.aggregatorLag.every((l: number) => l === 0);
      if (!zero) zeroSince = 0;
      else if (!zeroSince) zeroSince = Date.now();
      else if (Date.now() - zeroSince >= 3000) break;
      if (Date.now() > until) fail(`aggregator not caught up (lag 0 for 3 s) after 180 s: ${JSON.stringify(last?.aggregatorLag)}`);
      await sleep(250);
    }
    console.log(`aggregator caught up at ${at()}`);
    until = Date.now() + 180_000;
    let archivedCount = 0;
    while ((archivedCount = await ns.countArchived(site.id)) < accepted.size) {
      if (Date.now() > until) fail(`archive holds ${archivedCount} of ${accepted.size} events after 180 s`);
      await sleep(500);
    }
    console.log(`archive complete (${archivedCount}) at ${at()}`);
    const stoppedAggregator = await stop(aggregator, 'SIGTERM');
    assert.equal(stoppedAggregator, 0, `aggregator SIGTERM exit ${stoppedAggregator}`);

    // --- read-side: archive and rollups against the reference ---
    const storage = await openStorage(loadConfig({ ...process.env, ...env, ALMANAC_DATA_DIR: cliDir }));
    try {
      const events = await archivedEvents(storage.archive, site.id);
      const ids = events.map((e) => e.eventId);
      const unique = new Set(ids);
      assert.equal(unique.size, ids.length, `the archive holds ${ids.length - unique.size} eventIds more than once`);
      assert.equal(ids.length, accepted.size, 'archived events ≠ distinct accepted eventIds');
      const missing = [...accepted].filter((id) => !unique.has(id));
      assert.deepEqual(missing.slice(0, 5), [], `${missing.length} accepted eventIds are not in the archive`);

      const ref = computeRollups(events, OPTIONS);
      const stored = await storedBuckets(storage.rollups, site.id, 0, Date.now() + 2 * DAY_MS);
      const key = (b: { granularity: string; start: number }) => `${b.granularity} ${new Date(b.start).toISOString()}`;
      const refKeys = new Set(ref.buckets.map(key));
      const extra = stored.filter((b) => !refKeys.has(key(b))).map(key);
      const differences = compareBuckets(stored, ref.buckets, 0, Date.now() + 2 * DAY_MS);
      if (differences.length || extra.length) {
        console.log(`kills:\n${kills.join('\n')}\nrebalances:\n${rebalances.join('\n')}`);
        console.log(`${differences.length} differing buckets, ${extra.length} extra stored buckets; first 20 differences:`);
        for (const d of differences.slice(0, 20)) console.log(`${d.key}\n  stored:    ${d.stored.split('\n')[0]}\n  reference: ${d.reference.split('\n')[0]}`);
      }
      assert.deepEqual(extra.slice(0, 5), [], `${extra.length} stored buckets the reference lacks`);
      assert.deepEqual(differences.slice(0, 3), [], `${differences.length} buckets differ from the reference`);
      assert.equal(stored.length, ref.buckets.length);
      assert.deepEqual(new Set(stored.map((b) => b.logicVersion)), new Set([LOGIC_VERSION]));

      // Generator truth for the plain counts (a bonus: the reference above is the real check).
      const days = ref.buckets.filter((b) => b.granularity === 'day');
      assert.equal(days.reduce((n, b) => n + b.totals.pageviews, 0), expected.pageviews);
      assert.equal(days.reduce((n, b) => n + b.totals.events, 0), expected.events);

      // The visits the aggregator carries on with are the reference's.
      const sessions = await storage.rollups.getSessions(ref.sessions.map((s) => ({ trackingId: site.id, visitorId: s.visitorId })));
      const byId = (a: { visitorId: string }, b: { visitorId: string }) => (a.visitorId < b.visitorId ? -1 : a.visitorId > b.visitorId ? 1 : 0);
      assert.deepEqual([...sessions].sort(byId), [...ref.sessions].sort(byId));

      console.log(`verified: ${ids.length} archived events, ${stored.length} buckets (${days.length} days), ${ref.sessions.length} visits, 0 differences; ` +
        `${kills.length} kills, ${rebalances.length} rebalances; ${at()}`);
    } finally {
      await storage.close();
    }
  } catch (err) {
    if (!String((err as Error).message).includes('output tail:')) {
      const tails = ran.slice(-6).map(({ name, p }) => `--- ${name}:\n${p.output().split('\n').slice(-30).join('\n')}`).join('\n');
      console.error(tails);
    }
    throw err;
  }
});
