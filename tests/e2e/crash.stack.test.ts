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
 * The traffic goes to several tracking IDs chosen so that every log partition holds at least
 * one, so each rebalance really moves partitions (each aggregator logs what it is assigned and
 * what is revoked; the test prints and checks it). Every aggregator claims the partitions it is
 * given in the rollup store (fencing), so a member that has not yet noticed a rebalance cannot
 * commit over the new owner.
 * After the random kills, the crash window is hit on purpose: an aggregator started with the
 * crash hook of tests/support/aggregator-hooks.ts (crashAfterCommits: 1) SIGKILLs itself right after its first
 * rollup commit, before Kafka's offset commit; the next one must skip the records given again.
 *
 * Afterwards, once the aggregator group's lag is 0 (and stays 0) and the archive holds every
 * event, the cluster storage is opened read-side: every eventId must be archived exactly once,
 * and every stored bucket (totals, breakdowns, sketches) of every site must equal computeRollups
 * over the archive, with no stored bucket the reference lacks; the visits kept must equal the
 * reference's.
 *
 * CRASH_SEED=<n> repeats a run's traffic and kill timing; CRASH_EVENTS=<n> sets the volume.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../appliance/main/config.ts';
import { openStorage } from '../../appliance/main/profiles.ts';
import type { IncomingEvent } from '../../core/event.ts';
import type { EnrichedEvent } from '../../core/event.ts';
import { partitionFor } from '../../core/ports/index.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../core/time.ts';
import { verifyAgainstArchive } from '../support/verify.ts';
import { freshNamespace, startRoleProcess, type Namespace, type RoleProcess } from '../support/cluster.ts';
import type { HookSettings } from '../support/aggregator-hooks.ts';
import { generateTraffic, type GeneratedVisitor, rng } from '../support/traffic.ts';
import { sleep } from '../../core/async.ts';

// Every SIGKILL costs Kafka's session timeout of the dead member (10 s here, set below) before the
// group rebalances; the read-side scan of the archive through FerretDB takes ~80 s per 50k events.
const EVENTS = Number(process.env.CRASH_EVENTS ?? 100_000);
const SESSION_TIMEOUT_MS = 10_000;
// First sends are paced over this long, so that the kills (~10 s each) land while events arrive.
const SEND_MS = Number(process.env.CRASH_SEND_SECONDS ?? 150) * 1000;
const VISITORS = Math.round(EVENTS / 25);
const BATCH = 100;
const MIN_KILLS = 5;
const CONCURRENCY = 12;
const SEED = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 1e9));
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


interface Site {
  id: string;
  serverKey: string;
}

interface Batch {
  index: number;
  site: Site;
  visitor: GeneratedVisitor;
  events: IncomingEvent[];
}

test(`cluster: SIGKILL the aggregator at random moments, rebalance its group (fenced) and crash it right after a rollup commit while ${EVENTS} events arrive for sites on every partition: every bucket equals the reference over the archive, every eventId archived once`, { timeout: 1_200_000 }, async () => {
  const started = Date.now();
  const at = () => `+${((Date.now() - started) / 1000).toFixed(1)} s`;
  const random = rng(SEED);
  console.log(`cluster crash test: seed ${SEED} (repeat with CRASH_SEED=${SEED}), ${EVENTS} events, ${VISITORS} visitors`);
  ns = freshNamespace('crash');
  const env = { ...ns.env, ALMANAC_KAFKA_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS) };
  const partitions = loadConfig({ ...process.env, ...env }).partitions;
  const cliDir = mkdtempSync(path.join(os.tmpdir(), 'almanac-crash-cli-'));
  dirs.push(cliDir);
  const cli = (args: string[]): string => {
    const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, ...env, ALMANAC_DATA_DIR: cliDir }, encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`almanac ${args.join(' ')} exited with ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };

  // Every process that ever ran, with its output, for the failure report.
  const ran: { name: string; p: RoleProcess }[] = [];
  const start = async (name: string, roles: string, hooks?: HookSettings): Promise<RoleProcess> => {
    const p = await startRoleProcess(env, roles, undefined, { hooks });
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
    // Tracking IDs until every partition holds one (IDs are random; a partition is FNV-1a of the ID).
    const sites: Site[] = [];
    const covered = new Set<number>();
    while (covered.size < partitions) {
      assert.ok(sites.length < 40, `40 tracking IDs did not cover ${partitions} partitions`);
      const created = JSON.parse(cli(['tracking-ids', 'create', '--tenant', tenant.id, '--name', `crash ${sites.length}`, '--origins', '*'])) as Site;
      const p = partitionFor(created.id, partitions);
      if (covered.has(p) && sites.length >= partitions) continue;
      covered.add(p);
      sites.push(created);
    }
    console.log(`${at()}: roles up (namespace ${ns.name}); ${sites.length} sites over ${partitions} partitions: ${sites.map((x) => `${x.id}→${partitionFor(x.id, partitions)}`).join(' ')}`);

    const status = async (): Promise<any> =>
      fetch(`${collector.url}/api/admin/status`, { headers: { authorization: `Bearer ${adminApiKey}` }, signal: AbortSignal.timeout(10_000) })
        .then((r) => (r.ok ? (r.json() as Promise<any>) : null), () => null);
    const lagOf = (s: any) => (Array.isArray(s?.aggregatorLag) ? (s.aggregatorLag as number[]).reduce((a, b) => a + b, 0) : '?');

    // Traffic in the past (well inside the 72 h accepted), each visitor's events in time order.
    const now = Date.now();
    const queues: Batch[][] = [];
    let batchCount = 0;
    const expected = new Map<string, { pageviews: number; events: number }>();
    let totalSends = 0;
    for (const [i, site] of sites.entries()) {
      const perSite = Math.round(EVENTS / sites.length);
      const traffic = generateTraffic({ trackingId: site.id, events: perSite, visitors: Math.max(1, Math.round(VISITORS / sites.length)), start: now - 60 * HOUR_MS, spanMs: 50 * HOUR_MS, seed: SEED + i });
      const sends = traffic.sends.filter((x) => x.event.ts! < now - 2 * MINUTE_MS);
      totalSends += sends.length;
      expected.set(site.id, { pageviews: sends.filter((x) => x.event.type === 'pageview').length, events: sends.filter((x) => x.event.type === 'event').length });
      const byVisitor = new Map<string, { visitor: GeneratedVisitor; events: IncomingEvent[] }>();
      for (const x of sends) {
        const v = byVisitor.get(x.visitor.ip) ?? byVisitor.set(x.visitor.ip, { visitor: x.visitor, events: [] }).get(x.visitor.ip)!;
        v.events.push(x.event);
      }
      for (const { visitor, events } of byVisitor.values()) {
        const q: Batch[] = [];
        for (let k = 0; k < events.length; k += BATCH) q.push({ index: batchCount++, site, visitor, events: events.slice(k, k + BATCH) });
        queues.push(q);
      }
    }
    // Sites interleaved in the send order.
    for (let k = queues.length - 1; k > 0; k--) {
      const j = Math.floor(random() * (k + 1));
      [queues[k], queues[j]] = [queues[j], queues[k]];
    }
    // The last visitors are kept for the crash-window phase after the random kills.
    const windowQueues = queues.splice(Math.floor(queues.length * 0.97));

    // --- the sender: retries until accepted, same events every time ---
    const accepted = new Map<string, Set<string>>(sites.map((x) => [x.id, new Set<string>()]));
    const acceptedCount = () => [...accepted.values()].reduce((n, ids) => n + ids.size, 0);
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
              'x-almanac-key': batch.site.serverKey,
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
            for (const e of batch.events) accepted.get(batch.site.id)!.add(e.eventId!);
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
    console.log(`sent: ${acceptedBatches} batches (${acceptedCount()} events) accepted, ${duplicatesSent} duplicate batches, ${retries} retries; failures ${JSON.stringify(Object.fromEntries(failures))}; ${kills.length} kills, ${rebalances.length} rebalances by ${at()}`);
    assert.ok(killsWhileSending >= MIN_KILLS, `${killsWhileSending} kills while sending`);
    assert.equal(rebalances.length, 2);

    // --- catch-up: the aggregator group's lag is 0 for 3 s ---
    const caughtUp = async (what: string) => {
      let zeroSince = 0;
      let last: any;
      const until = Date.now() + 180_000;
      for (;;) {
        last = await status();
        const zero = Array.isArray(last?.aggregatorLag) && last.aggregatorLag.every((l: number) => l === 0);
        if (!zero) zeroSince = 0;
        else if (!zeroSince) zeroSince = Date.now();
        else if (Date.now() - zeroSince >= 3000) break;
        if (Date.now() > until) fail(`${what}: aggregator not caught up (lag 0 for 3 s) after 180 s: ${JSON.stringify(last?.aggregatorLag)}`);
        await sleep(250);
      }
      console.log(`${what}: aggregator caught up at ${at()}`);
    };
    await caughtUp('after the random kills');

    // --- the crash window on purpose: SIGKILL right after a rollup commit, before Kafka's offset commit ---
    // A fresh aggregator with nothing to catch up on becomes healthy, is given the kept visitors,
    // commits once and kills itself; the next one is given the uncommitted records again.
    assert.equal(await stop(aggregator, 'SIGTERM'), 0);
    const crashing = await start('aggregator (crash after its first commit)', 'aggregator', { crashAfterCommits: 1 });
    for (const q of windowQueues) for (const batch of q) await send(batch, 'first');
    const crashUntil = Date.now() + 60_000;
    while (crashing.child.signalCode === null && crashing.child.exitCode === null) {
      if (Date.now() > crashUntil) fail('the aggregator with the crash-after-first-commit hook did not kill itself within 60 s');
      await sleep(100);
    }
    assert.equal(crashing.child.signalCode, 'SIGKILL');
    assert.match(crashing.output(), /TEST ONLY: killing this process after rollup commit 1 /);
    processes.delete(crashing);
    aggregator = await start(`aggregator #${++aggregatorStarts} (after the crash window)`, 'aggregator');
    await caughtUp('after the crash window');
    const skipped = [...aggregator.output().matchAll(/partition (\d+): skipped (\d+) records below the checkpoint/g)].map((m) => `${m[2]} on partition ${m[1]}`);
    if (skipped.length === 0) fail('the aggregator after the crash window skipped no records below the checkpoint');
    console.log(`crash window: the next aggregator skipped ${skipped.join(', ')} (already counted)`);
    assert.equal(acceptedCount(), totalSends);

    // --- partition moves, as the aggregators logged them ---
    const assignments = ran.filter((r) => r.name.startsWith('aggregator')).map((r) => {
      const lines = [...r.p.output().matchAll(/aggregator: (assigned|revoked) partitions ([\d,]+)/g)].map((m) => `${m[1]} ${m[2]}`);
      const fenced = [...r.p.output().matchAll(/was claimed by another instance/g)].length;
      return { name: r.name, lines, fenced };
    });
    for (const a of assignments) console.log(`${a.name}: ${a.lines.join('; ') || '(nothing logged)'}${a.fenced ? `; ${a.fenced} commits fenced` : ''}`);
    const secondGot = assignments.find((a) => a.name.includes('second instance'))?.lines.some((l) => l.startsWith('assigned')) ?? false;
    if (!secondGot) fail('the second aggregator instance was never assigned a partition: the rebalance moved nothing');

    // --- the archive holds everything ---
    const until = Date.now() + 240_000;
    let archivedCount = 0;
    while ((archivedCount = await ns.countArchived(sites.map((x) => x.id))) < acceptedCount()) {
      if (Date.now() > until) fail(`archive holds ${archivedCount} of ${acceptedCount()} events after 240 s`);
      await sleep(1000);
    }
    console.log(`archive complete (${archivedCount}) at ${at()}`);
    const stoppedAggregator = await stop(aggregator, 'SIGTERM');
    assert.equal(stoppedAggregator, 0, `aggregator SIGTERM exit ${stoppedAggregator}`);

    // --- read-side: archive and rollups against the reference, every site ---
    const storage = await openStorage(loadConfig({ ...process.env, ...env, ALMANAC_DATA_DIR: cliDir }));
    try {
      // One scan for all sites (FerretDB reads the whole collection for any query).
      const bySite = new Map<string, EnrichedEvent[]>(sites.map((x) => [x.id, []]));
      for await (const page of storage.archive.scan({ trackingIds: sites.map((x) => x.id), from: 0, to: Date.now() + DAY_MS }, 10_000)) {
        for (const e of page) bySite.get(e.trackingId)!.push(e);
      }
      const totals = { events: 0, buckets: 0, visits: 0 };
      for (const site of sites) {
        const verified = await verifyAgainstArchive(storage, site.id, accepted.get(site.id)!, bySite.get(site.id)!);
        // Generator truth for the plain counts (a bonus: the reference is the real check).
        assert.equal(verified.pageviews, expected.get(site.id)!.pageviews, `${site.id}: pageviews`);
        assert.equal(verified.customEvents, expected.get(site.id)!.events, `${site.id}: custom events`);
        totals.events += verified.events;
        totals.buckets += verified.buckets;
        totals.visits += verified.visits;
      }
      console.log(`verified: ${totals.events} archived events, ${totals.buckets} buckets, ${totals.visits} visits over ${sites.length} sites, 0 differences; ` +
        `${kills.length} kills, ${rebalances.length} rebalances, 1 crash right after a commit; ${at()}`);
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
