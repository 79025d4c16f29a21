/**
 * Live scaling on the native stack (cluster profile): a supervised node keeps its worker
 * processes at the desired counts in the registry.
 *
 * 1. While ~20k events arrive through the node's collector workers for sites on every log
 *    partition, the aggregator is scaled 1 → 3 (two workers join its consumer group and are
 *    assigned partitions) and back 3 → 1 (they stop gracefully and hand them back). Afterwards
 *    every accepted eventId is archived once and every stored bucket and visit of every site
 *    equals computeRollups over the archive: nothing lost, nothing doubled.
 * 2. Two supervisors on one machine (other ports and data folders, so other node IDs) both appear
 *    in listNodes with their workers; scaling one node's collectors leaves the other's alone.
 * 3. A SIGKILLed worker is restarted by its supervisor, and the crash (signal, restarts) shows in
 *    listNodes; SIGTERM to a supervisor stops every one of its workers.
 *
 * SCALE_EVENTS=<n> sets the volume, SCALE_SEED=<n> repeats a run's traffic.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../appliance/main/config.ts';
import { openStorage, type Storage } from '../../appliance/main/profiles.ts';
import { createTenant } from '../../control/tenants.ts';
import { createTrackingId } from '../../control/tracking-ids.ts';
import type { EnrichedEvent, IncomingEvent } from '../../core/event.ts';
import { partitionFor, type NodeStatus, type ScalingRegistry, type WorkerRole } from '../../core/ports/index.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../core/time.ts';
import { freshNamespace, type Namespace } from '../support/cluster.ts';
import { alive, startSupervisor, type SupervisorProcess } from '../support/supervisor.ts';
import { generateTraffic, rng, type GeneratedVisitor } from '../support/traffic.ts';
import { verifyAgainstArchive } from '../support/verify.ts';
import { sleep } from '../../core/async.ts';

const EVENTS = Number(process.env.SCALE_EVENTS ?? 20_000);
const SEND_MS = 60_000;
const BATCH = 50;
const CONCURRENCY = 8;
const SEED = Number(process.env.SCALE_SEED ?? Math.floor(Math.random() * 1e9));


const stackUp = Boolean(process.env.ALMANAC_KAFKA_BROKERS && process.env.ALMANAC_MONGO_URL && process.env.ALMANAC_CASSANDRA_CONTACT_POINTS && process.env.ALMANAC_REDIS_URL);

interface Harness {
  ns: Namespace;
  env: Record<string, string>;
  storage: Storage;
  scaling: ScalingRegistry;
  nodes: Set<SupervisorProcess>;
  dir: string;
}

async function openHarness(prefix: string, extraEnv: Record<string, string> = {}): Promise<Harness> {
  const ns = freshNamespace(prefix);
  const env = { ...ns.env, ALMANAC_KAFKA_SESSION_TIMEOUT_MS: '10000', ALMANAC_RECONCILE_INTERVAL_MS: '500', ...extraEnv };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'almanac-scaling-'));
  const storage = await openStorage(loadConfig({ ...process.env, ...env, ALMANAC_DATA_DIR: dir }));
  return { ns, env, storage, scaling: storage.registry, nodes: new Set(), dir };
}

async function closeHarness(h: Harness | undefined): Promise<void> {
  if (!h) return;
  for (const n of h.nodes) await n.stop('SIGKILL').catch(() => {});
  await h.storage.close().catch(() => {});
  await h.ns.drop();
  rmSync(h.dir, { recursive: true, force: true });
}

/** Polls listNodes until `check` holds for the node; returns that report. */
async function untilNode(scaling: ScalingRegistry, nodeId: string, what: string, check: (n: NodeStatus) => boolean, timeoutMs = 90_000): Promise<NodeStatus> {
  const until = Date.now() + timeoutMs;
  let last: NodeStatus | undefined;
  for (;;) {
    last = (await scaling.listNodes()).find((n) => n.nodeId === nodeId);
    if (last && check(last)) return last;
    if (Date.now() > until) assert.fail(`${nodeId}: ${what} not reached after ${timeoutMs} ms; last report: ${JSON.stringify(last)}`);
    await sleep(250);
  }
}

const runningOf = (n: NodeStatus, role: WorkerRole) => n.workers.filter((w) => w.role === role && w.state === 'running');
const countsOf = (n: NodeStatus) => Object.fromEntries((['collector', 'archiver', 'aggregator', 'query'] as const).map((r) => [r, runningOf(n, r).length]));

if (!stackUp) {
  describe('live scaling (cluster)', () => {
    test('needs the native stack (npm run stack -- up; run through scripts/run-tests.mjs)', { skip: true }, () => {});
  });
} else {
  describe('live scaling: aggregator 1 → 3 → 1 while events flow', () => {
    let h: Harness | undefined;
    after(() => closeHarness(h));

    test(`${EVENTS} events for sites on every partition, the aggregator scaled to 3 and back to 1 during the traffic: every eventId archived once, every bucket equals the reference`, { timeout: 900_000 }, async () => {
      const started = Date.now();
      const at = () => `+${((Date.now() - started) / 1000).toFixed(1)} s`;
      const random = rng(SEED);
      console.log(`scaling test: seed ${SEED} (repeat with SCALE_SEED=${SEED}), ${EVENTS} events`);
      h = await openHarness('scale', { ALMANAC_NODE_ID: 'scale-node' });
      const { scaling } = h;
      const node = await startSupervisor(h.env);
      h.nodes.add(node);
      const nodeId = 'scale-node';
      await untilNode(scaling, nodeId, 'one worker of each role running', (n) => JSON.stringify(countsOf(n)) === JSON.stringify({ collector: 1, archiver: 1, aggregator: 1, query: 1 }));
      const fail = (message: string): never => assert.fail(`${message}\n--- node output tail:\n${node.output().split('\n').filter((l) => !/kafka ERROR/.test(l)).slice(-40).join('\n')}`);

      // Sites until every partition holds one, so the rebalances really move partitions.
      const partitions = loadConfig({ ...process.env, ...h.env }).partitions;
      const tenant = await createTenant(h.storage.registry, { name: 'scaling', rateLimitPerSec: 1_000_000 });
      const sites: { id: string; serverKey: string }[] = [];
      const covered = new Set<number>();
      while (covered.size < partitions) {
        assert.ok(sites.length < 40, `40 tracking IDs did not cover ${partitions} partitions`);
        const site = await createTrackingId(h.storage.registry, { tenantId: tenant.id, name: `scaling ${sites.length}`, allowedOrigins: ['*'] });
        const p = partitionFor(site.id, partitions);
        if (covered.has(p)) continue;
        covered.add(p);
        sites.push(site);
      }

      // Traffic in the past (inside the 72 h accepted); batches of one visitor, sites interleaved.
      const now = Date.now();
      const batches: { site: (typeof sites)[number]; visitor: GeneratedVisitor; events: IncomingEvent[] }[] = [];
      const expected = new Map<string, number>();
      for (const [i, site] of sites.entries()) {
        const traffic = generateTraffic({ trackingId: site.id, events: Math.round(EVENTS / sites.length), visitors: Math.max(1, Math.round(EVENTS / sites.length / 20)), start: now - 60 * HOUR_MS, spanMs: 50 * HOUR_MS, seed: SEED + i });
        const sends = traffic.sends.filter((x) => x.event.ts! < now - 2 * MINUTE_MS);
        expected.set(site.id, sends.filter((x) => x.event.type === 'pageview').length);
        const byVisitor = new Map<string, { visitor: GeneratedVisitor; events: IncomingEvent[] }>();
        for (const x of sends) (byVisitor.get(x.visitor.ip) ?? byVisitor.set(x.visitor.ip, { visitor: x.visitor, events: [] }).get(x.visitor.ip)!).events.push(x.event);
        for (const { visitor, events } of byVisitor.values()) {
          for (let k = 0; k < events.length; k += BATCH) batches.push({ site, visitor, events: events.slice(k, k + BATCH) });
        }
      }
      const accepted = new Map<string, Set<string>>(sites.map((x) => [x.id, new Set<string>()]));
      const acceptedCount = () => [...accepted.values()].reduce((n, ids) => n + ids.size, 0);
      let retries = 0;
      async function send(batch: (typeof batches)[number]): Promise<void> {
        const until = Date.now() + 90_000;
        for (;;) {
          const res = await fetch(`${node.url}/api/batch`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-almanac-key': batch.site.serverKey, 'x-almanac-client-ip': batch.visitor.ip, 'x-almanac-user-agent': batch.visitor.userAgent },
            body: JSON.stringify(batch.events),
            signal: AbortSignal.timeout(20_000),
          }).catch(() => undefined);
          if (res?.status === 202) {
            const body = (await res.json()) as { accepted: number };
            if (body.accepted !== batch.events.length) fail(`202 but ${JSON.stringify(body).slice(0, 300)}`);
            for (const e of batch.events) accepted.get(batch.site.id)!.add(e.eventId!);
            return;
          }
          if (res && res.status !== 503 && res.status !== 429) fail(`status ${res.status}: ${(await res.text()).slice(0, 300)}`);
          if (Date.now() > until) fail('a batch was not accepted after 90 s of retries');
          retries++;
          await sleep(100 + Math.floor(random() * 200));
        }
      }

      // The last fifth of the traffic waits for the scale-down to be asked for, so events really do
      // arrive after it however slowly the workers start on a loaded machine.
      let scaleDownAsked!: () => void;
      const scaleDownWasAsked = new Promise<void>((resolve) => { scaleDownAsked = resolve; });
      const held = Math.floor(batches.length * 0.8);
      let sent = 0;
      const sendingStarted = Date.now();
      const interval = SEND_MS / batches.length;
      const sender = (async () => {
        // One visitor's batches go through one lane, in order (visits are cut by time).
        const lanes = new Map<string, typeof batches>();
        for (const b of batches) (lanes.get(b.visitor.ip + b.site.id) ?? lanes.set(b.visitor.ip + b.site.id, []).get(b.visitor.ip + b.site.id)!).push(b);
        const queue = [...lanes.values()];
        for (let k = queue.length - 1; k > 0; k--) {
          const j = Math.floor(random() * (k + 1));
          [queue[k], queue[j]] = [queue[j], queue[k]];
        }
        let next = 0;
        await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
          while (next < queue.length) {
            for (const b of queue[next++]) {
              if (sent >= held) await scaleDownWasAsked;
              await sleep(sendingStarted + sent++ * interval - Date.now());
              await send(b);
            }
          }
        }));
      })();

      const scaler = (async () => {
        await sleep(10_000);
        const before3 = acceptedCount();
        await scaling.setDesiredScale(nodeId, { collector: 1, archiver: 1, aggregator: 3, query: 1 });
        const three = await untilNode(scaling, nodeId, 'three aggregator workers running', (n) => runningOf(n, 'aggregator').length === 3 && n.desired.aggregator === 3);
        console.log(`${at()}: aggregator scaled to 3 (pids ${runningOf(three, 'aggregator').map((w) => w.pid).join(', ')}) with ${before3} events accepted`);
        await sleep(20_000);
        const before1 = acceptedCount();
        await scaling.setDesiredScale(nodeId, { collector: 1, archiver: 1, aggregator: 1, query: 1 });
        scaleDownAsked();
        const one = await untilNode(scaling, nodeId, 'one aggregator worker left', (n) => n.workers.filter((w) => w.role === 'aggregator').length === 1);
        console.log(`${at()}: aggregator scaled back to 1 (slot ${one.workers.find((w) => w.role === 'aggregator')!.slot}) with ${before1} events accepted`);
        return { three, one, before1 };
      })();
      const [, scaled] = await Promise.all([sender, scaler]);
      console.log(`${at()}: sent ${acceptedCount()} events (${retries} retries)`);
      assert.ok(scaled.before1 < acceptedCount(), 'events were still arriving after the scale-down');
      assert.deepEqual(scaled.one.workers.filter((w) => w.role === 'aggregator').map((w) => [w.slot, w.restarts, w.lastExit]), [[0, 0, null]], 'the first aggregator kept running; slots 1 and 2 were stopped, not crashed');

      // The two added aggregators were given partitions (the group rebalanced onto them) and gave them back.
      const out = node.output();
      for (const slot of [1, 2]) {
        if (!new RegExp(`\\[aggregator#${slot}\\] aggregator: assigned partitions \\d`).test(out)) fail(`aggregator#${slot} was never assigned a partition`);
        if (!new RegExp(`supervisor: aggregator#${slot} stopped \\(exit 0\\)`).test(out)) fail(`aggregator#${slot} did not stop cleanly (exit 0)`);
      }
      for (const line of out.split('\n').filter((l) => /\[aggregator#\d\] aggregator: (assigned|revoked)/.test(l))) console.log(line);

      // Caught up: the aggregator group's lag is 0 for 3 s, and the archive holds every event.
      const { adminApiKey } = node.credentials();
      let zeroSince = 0;
      const until = Date.now() + 180_000;
      for (;;) {
        const s = await fetch(`${node.url}/api/admin/status`, { headers: { authorization: `Bearer ${adminApiKey}` } }).then((r) => r.json() as Promise<{ aggregatorLag?: number[] }>, () => undefined);
        const zero = Array.isArray(s?.aggregatorLag) && s.aggregatorLag.every((l) => l === 0);
        zeroSince = zero ? zeroSince || Date.now() : 0;
        if (zeroSince && Date.now() - zeroSince >= 3000) break;
        if (Date.now() > until) fail(`aggregator lag not 0 after 180 s: ${JSON.stringify(s?.aggregatorLag)}`);
        await sleep(250);
      }
      while ((await h.ns.countArchived(sites.map((x) => x.id))) < acceptedCount()) {
        if (Date.now() > until + 60_000) fail('the archive does not hold every accepted event');
        await sleep(1000);
      }
      console.log(`${at()}: caught up`);

      const bySite = new Map<string, EnrichedEvent[]>(sites.map((x) => [x.id, []]));
      for await (const page of h.storage.archive.scan({ trackingIds: sites.map((x) => x.id), from: 0, to: Date.now() + DAY_MS }, 10_000)) {
        for (const e of page) bySite.get(e.trackingId)!.push(e);
      }
      let buckets = 0;
      for (const site of sites) {
        const verified = await verifyAgainstArchive(h.storage, site.id, accepted.get(site.id)!, bySite.get(site.id)!);
        assert.equal(verified.pageviews, expected.get(site.id), `${site.id}: pageviews`);
        buckets += verified.buckets;
      }
      console.log(`${at()}: verified ${acceptedCount()} events, ${buckets} buckets over ${sites.length} sites: 0 differences`);

      const pids = (await untilNode(scaling, nodeId, 'report', () => true)).workers.map((w) => w.pid!).filter(Boolean);
      const stopped = await node.stop('SIGTERM');
      h.nodes.delete(node);
      assert.deepEqual(stopped, { code: 0, signal: null });
      assert.deepEqual(pids.filter(alive), [], 'SIGTERM to the supervisor stops every worker');
    });
  });

  describe('two supervisors on one machine; a killed worker is restarted', () => {
    let h: Harness | undefined;
    let a: SupervisorProcess;
    let b: SupervisorProcess;
    const idOf = (n: SupervisorProcess) => `${os.hostname()}-${n.port}`;
    before(async () => {
      h = await openHarness('nodes', { ALMANAC_WORKER_BACKOFF_INITIAL_MS: '1000' });
      // One after the other: the Cassandra schema of one keyspace is created once.
      a = await startSupervisor(h.env);
      h.nodes.add(a);
      b = await startSupervisor(h.env);
      h.nodes.add(b);
    });
    after(() => closeHarness(h));

    test('both nodes appear in listNodes (node ID <hostname>-<port>) with their own workers', { timeout: 120_000 }, async () => {
      const ones = { collector: 1, archiver: 1, aggregator: 1, query: 1 };
      const na = await untilNode(h!.scaling, idOf(a), 'one of each role', (n) => JSON.stringify(countsOf(n)) === JSON.stringify(ones));
      const nb = await untilNode(h!.scaling, idOf(b), 'one of each role', (n) => JSON.stringify(countsOf(n)) === JSON.stringify(ones));
      assert.equal(na.pid, a.child.pid);
      assert.equal(nb.pid, b.child.pid);
      assert.equal(na.url, `http://127.0.0.1:${a.port}`);
      const pidsA = na.workers.map((w) => w.pid);
      assert.ok(nb.workers.every((w) => !pidsA.includes(w.pid)), 'each node has its own worker processes');

      await h!.scaling.setDesiredScale(idOf(b), { ...ones, collector: 2 });
      const scaled = await untilNode(h!.scaling, idOf(b), 'two collectors', (n) => runningOf(n, 'collector').length === 2);
      assert.deepEqual(countsOf(scaled), { ...ones, collector: 2 });
      // Both collectors of node B share its port: many requests are all answered.
      const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(`${b.url}/healthz`).then((r) => r.status)));
      assert.deepEqual(new Set(answers), new Set([200]));
      assert.deepEqual(countsOf((await h!.scaling.listNodes()).find((n) => n.nodeId === idOf(a))!), ones, 'node A is not scaled by node B\'s desired scale');
    });

    test('a SIGKILLed aggregator and collector are restarted; the crash shows in lastExit and restarts', { timeout: 120_000 }, async () => {
      const before = await untilNode(h!.scaling, idOf(a), 'running', (n) => runningOf(n, 'aggregator').length === 1 && runningOf(n, 'collector').length === 1);
      const aggregatorPid = runningOf(before, 'aggregator')[0].pid!;
      const collectorPid = runningOf(before, 'collector')[0].pid!;
      const killedAt = Date.now();
      process.kill(aggregatorPid, 'SIGKILL');
      process.kill(collectorPid, 'SIGKILL');
      const crashed = await untilNode(h!.scaling, idOf(a), 'the crash recorded', (n) =>
        n.workers.some((w) => w.role === 'aggregator' && w.lastExit?.signal === 'SIGKILL') && n.workers.some((w) => w.role === 'collector' && w.lastExit?.signal === 'SIGKILL'));
      const restarted = await untilNode(h!.scaling, idOf(a), 'both restarted and running', (n) =>
        runningOf(n, 'aggregator').some((w) => w.restarts === 1 && w.pid !== aggregatorPid) && runningOf(n, 'collector').some((w) => w.restarts === 1 && w.pid !== collectorPid));
      for (const role of ['aggregator', 'collector'] as const) {
        const w = restarted.workers.find((x) => x.role === role)!;
        assert.equal(w.slot, 0);
        assert.equal(w.lastExit?.signal, 'SIGKILL');
        assert.ok(w.lastExit!.at >= killedAt - 1000, 'lastExit is the kill');
        assert.ok(w.startedAt! >= w.lastExit!.at + 900, `${role} waited for its backoff (1 s) before the restart`);
      }
      assert.ok(crashed.workers.length >= 4);
      assert.ok(!alive(aggregatorPid) && !alive(collectorPid));
      assert.equal((await fetch(`${a.url}/healthz`)).status, 200, 'the restarted collector serves the port again');
      assert.match(a.output(), /supervisor: aggregator#0 exited unexpectedly \(SIGKILL\); restarting in 1000 ms/);
    });

    test('SIGTERM to a supervisor stops its workers gracefully; the other node keeps running', { timeout: 120_000 }, async () => {
      const report = (await h!.scaling.listNodes()).find((n) => n.nodeId === idOf(b))!;
      const pids = report.workers.map((w) => w.pid!).filter(Boolean);
      assert.ok(pids.length >= 4);
      const result = await b.stop('SIGTERM');
      h!.nodes.delete(b);
      assert.deepEqual(result, { code: 0, signal: null });
      assert.deepEqual(pids.filter(alive), []);
      assert.match(b.output(), /supervisor: aggregator#0 stopped \(exit 0\)/);
      const last = (await h!.scaling.listNodes()).find((n) => n.nodeId === idOf(b));
      assert.deepEqual(last?.workers, [], 'the last report of a stopped node has no workers');
      assert.equal((await fetch(`${a.url}/healthz`)).status, 200);
    });
  });
}
