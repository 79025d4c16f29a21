/**
 * `npm run bench` — figures for the embedded profile on this machine. Prints, never asserts.
 *   1. collector: single events/s and batches of 100, with autocannon against a real appliance
 *      process (every role running, as `npm start` does);
 *   2. end to end: time until every accepted event is in the rollups;
 *   3. freshness: at a steady load, the delay from a 202 to the aggregator's commit, p50/p99;
 *   4. aggregator alone: events/s draining a filled log into rollups;
 *   5. query latency p50/p99 over 30 days of hourly data, cached and uncached (cluster: cached in Redis).
 * Options: --seconds N (default 10) for each load phase; --profile cluster runs the same against
 * the native stack (`npm run stack -- up`), with collector+query and archiver+aggregator as two
 * processes, in a namespace of its own that is dropped afterwards.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { openEmbeddedStorage } from '../appliance/storage/embedded/index.ts';
import { startAggregator } from '../pipeline/aggregator.ts';
import { syntheticEvents } from './rollup.ts';
import { bench as queryBench } from './query.ts';
import { loadConfig } from '../appliance/main/config.ts';
import { openStorage, type Storage } from '../appliance/main/profiles.ts';
import { freshNamespace, type Namespace } from '../tests/support/cluster.ts';

const seconds = Number(process.argv[process.argv.indexOf('--seconds') + 1]) || 10;
const profile = process.argv.includes('--profile') ? process.argv[process.argv.indexOf('--profile') + 1] : 'embedded';
if (profile !== 'embedded' && profile !== 'cluster') throw new Error(`--profile must be embedded or cluster, got ${profile}`);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

let namespace: Namespace | undefined;

async function main() {
  console.log(`Almanac benchmarks — ${profile} profile, ${os.cpus().length} cores, Node ${process.version}\n`);
  if (profile === 'cluster') {
    loadStackEnv();
    namespace = freshNamespace('bench');
  }
  try {
    await applianceFigures();
    await aggregatorFigures();
    await queryFigures();
  } finally {
    await namespace?.drop();
  }
}

function loadStackEnv() {
  const file = path.join(root, '.stack', 'env');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error('The cluster benchmark needs the native services: run `npm run stack -- up` first.');
  }
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m && process.env[m[1]] === undefined) process.env[m[1]] = m[2];
  }
}

interface Running { url: string; statusUrl: string; adminKey: string; trackingId: string; stop(): Promise<void> }

function spawnAppliance(env: NodeJS.ProcessEnv): { url: string; child: ReturnType<typeof spawn>; ready(): Promise<void> } {
  const port = String(20000 + Math.floor(Math.random() * 20000));
  const child = spawn(process.execPath, [path.join(root, 'appliance/bin/almanac.mjs'), 'start'], { env: { ...env, ALMANAC_PORT: port }, stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    child,
    async ready() {
      for (let i = 0; i < 240; i++) {
        if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) return;
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(`the appliance on ${url} did not become healthy`);
    },
  };
}

async function startApplianceProcess(): Promise<Running> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'almanac-bench-'));
  const env: NodeJS.ProcessEnv = { ...process.env, ...(namespace?.env ?? {}), ALMANAC_DATA_DIR: dataDir };
  // Embedded: one process with every role. Cluster: collector+query and archiver+aggregator apart.
  const front = spawnAppliance(profile === 'cluster' ? { ...env, ALMANAC_ROLES: 'collector,query,admin' } : env);
  await front.ready();
  const back = profile === 'cluster' ? spawnAppliance({ ...env, ALMANAC_ROLES: 'archiver,aggregator,admin' }) : undefined;
  await back?.ready();
  const children = [front.child, ...(back ? [back.child] : [])];
  const url = front.url;
  const creds = JSON.parse(readFileSync(path.join(dataDir, 'credentials.json'), 'utf8'));
  // A benchmark site without the default per-site rate limit (1,000,000/s is the most a tenant may have).
  const cli = (args: string[]) => new Promise<string>((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(root, 'appliance/bin/almanac.mjs'), ...args], { env });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`almanac ${args.join(' ')} exited ${code}: ${err.trim()}`))));
  });
  const stop = async () => {
    for (const child of children.reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const tenant = JSON.parse(await cli(['tenants', 'create', '--name', 'bench', '--rate-limit', '1000000']));
    const site = JSON.parse(await cli(['tracking-ids', 'create', '--tenant', tenant.id, '--name', 'bench', '--origins', '*']));
    return { url, statusUrl: back?.url ?? url, adminKey: creds.adminApiKey, trackingId: site.id, stop };
  } catch (error) {
    await stop(); // a failed set-up must not leave the appliance running
    throw error;
  }
}

async function status(a: Running): Promise<{ processed: number; duplicates: number; lag: number }> {
  const s = await fetch(`${a.statusUrl}/api/admin/status`, { headers: { authorization: `Bearer ${a.adminKey}` } }).then((r) => r.json()) as any;
  return { processed: s.aggregator.processed, duplicates: s.aggregator.duplicates, lag: s.aggregatorLag.reduce((x: number, y: number) => x + y, 0) };
}

function event(trackingId: string, i: number) {
  return { eventId: randomUUID(), trackingId, url: `https://bench.example/p/${i % 50}`, referrer: i % 3 ? '' : 'https://www.google.com/' };
}

async function load(a: Running, kind: 'single' | 'batch', opts: { connections: number; overallRate?: number }) {
  let i = 0;
  const result = await autocannon({
    url: a.url,
    duration: seconds,
    connections: opts.connections,
    overallRate: opts.overallRate,
    requests: [{
      method: 'POST',
      path: kind === 'single' ? '/api/event' : '/api/batch',
      headers: { 'content-type': 'application/json', origin: 'https://bench.example', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0' },
      setupRequest: (req: any) => ({
        ...req,
        body: JSON.stringify(kind === 'single' ? event(a.trackingId, i++) : Array.from({ length: 100 }, () => event(a.trackingId, i++))),
      }),
    }],
  });
  const ok = result['2xx'];
  return { requestsPerSec: ok / seconds, eventsPerSec: (ok * (kind === 'single' ? 1 : 100)) / seconds, non2xx: result.non2xx, p99Ms: result.latency.p99, accepted: ok * (kind === 'single' ? 1 : 100) };
}

async function drain(a: Running, expected: number, t0: number): Promise<number> {
  for (;;) {
    const s = await status(a);
    if (s.processed + s.duplicates >= expected && s.lag === 0) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function applianceFigures() {
  const a = await startApplianceProcess();
  try {
    const base = (await status(a)).processed;
    let t0 = Date.now();
    const single = await load(a, 'single', { connections: 50 });
    console.log(`collector, single events:   ${fmt(single.eventsPerSec)} events/s (${fmt(single.requestsPerSec)} req/s, p99 ${single.p99Ms} ms, non-2xx ${single.non2xx})`);
    await drain(a, base + single.accepted, t0);

    const base2 = (await status(a)).processed;
    t0 = Date.now();
    const batch = await load(a, 'batch', { connections: 10 });
    const loadEnd = Date.now();
    const e2eMs = await drain(a, base2 + batch.accepted, t0);
    console.log(`collector, batches of 100:  ${fmt(batch.eventsPerSec)} events/s (${fmt(batch.requestsPerSec)} req/s, p99 ${batch.p99Ms} ms, non-2xx ${batch.non2xx})`);
    console.log(`end to end, batches of 100: ${fmt(batch.accepted / (e2eMs / 1000))} events/s into rollups (${fmt(batch.accepted)} events, last in rollups ${fmt(e2eMs - (loadEnd - t0))} ms after the load stopped)`);

    // Freshness at half the measured end-to-end rate: sample how far the aggregator trails ingest.
    const rate = Math.max(1, Math.floor(batch.accepted / (e2eMs / 1000) / 2 / 100));
    const accepted: { at: number; total: number }[] = [];
    const committed: { at: number; processed: number }[] = [];
    const start = (await status(a)).processed;
    let total = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const s = await status(a);
        committed.push({ at: Date.now(), processed: s.processed - start });
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const until = Date.now() + seconds * 1000;
    let n = 0;
    const inflight: Promise<void>[] = [];
    while (Date.now() < until) {
      const body = JSON.stringify(Array.from({ length: 100 }, () => event(a.trackingId, n++)));
      inflight.push(fetch(`${a.url}/api/batch`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://bench.example', 'user-agent': 'Mozilla/5.0 Firefox/121.0' }, body })
        .then(async (r) => { await r.arrayBuffer(); if (r.status === 202) { total += 100; accepted.push({ at: Date.now(), total }); } }));
      await new Promise((r) => setTimeout(r, 1000 / rate));
    }
    await Promise.all(inflight);
    await drain(a, start + total, Date.now());
    await new Promise((r) => setTimeout(r, 300));
    sampling = false;
    await sampler;
    const delays = accepted.map(({ at, total: t }) => (committed.find((c) => c.processed >= t)?.at ?? NaN) - at).filter(Number.isFinite).map((d) => Math.max(0, d));
    console.log(`freshness at ${fmt(rate * 100)} events/s: p50 ${fmt(pct(delays, 50))} ms, p99 ${fmt(pct(delays, 99))} ms from 202 to rollup commit (sampled every 20 ms)`);
  } finally {
    await a.stop();
  }
}

async function openBenchStorage(name: string): Promise<{ storage: Pick<Storage, 'eventLog' | 'rollups' | 'cache'>; close(): Promise<void> }> {
  if (profile === 'cluster') {
    const ns = freshNamespace(`bench${name}`);
    const storage = await openStorage(loadConfig({ ...process.env, ...ns.env }));
    return { storage, close: async () => { await storage.close(); await ns.drop(); } };
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), `almanac-bench-${name}-`));
  const storage = openEmbeddedStorage({ path: path.join(dir, 'bench.sqlite'), partitions: 4 });
  return { storage, close: async () => { await storage.close(); rmSync(dir, { recursive: true, force: true }); } };
}

async function aggregatorFigures() {
  for (const dedupBookkeeping of [true, false]) {
    const { storage, close } = await openBenchStorage('agg');
    try {
      const n = 200_000;
      const events = syntheticEvents(n).map((e) => ({ ...e, ts: Date.now() - 3_600_000 + (e.ts % 3_600_000) }));
      for (let i = 0; i < n; i += 5000) await storage.eventLog.append(events.slice(i, i + 5000));
      const config = loadConfig({});
      const t0 = performance.now();
      const agg = await startAggregator({ eventLog: storage.eventLog, rollups: storage.rollups, cache: storage.cache }, { ...config.pipeline, logicVersion: 1, dedupBookkeeping });
      while (agg.stats().processed + agg.stats().duplicates < n) await new Promise((r) => setTimeout(r, 50));
      const ms = performance.now() - t0;
      await agg.onShutdown();
      const what = dedupBookkeeping ? 'with the duplicate bookkeeping (seen IDs)' : 'without the duplicate bookkeeping';
      console.log(`aggregator alone:           ${fmt(n / (ms / 1000))} events/s (${fmt(n)} events from the log into rollups, ${what}; checkpointed atomic commits either way)`);
    } finally {
      await close();
    }
  }
}

async function queryFigures() {
  const { storage, close } = await openBenchStorage('query');
  try {
    // The cluster's query cache is Redis: its hits are measured there, not in an in-process map.
    const r = await queryBench(storage.rollups, { seed: true, iterations: 200, ...(profile === 'cluster' ? { cache: storage.cache } : {}) }) as any;
    const cacheName = profile === 'cluster' ? 'cached (Redis)' : 'cached (in-process)';
    for (const [name, v] of Object.entries(r)) {
      if (v && typeof v === 'object' && 'uncached' in (v as object)) {
        const { uncached, cached } = v as any;
        console.log(`query ${name.padEnd(22)} uncached p50 ${uncached.p50Ms.toFixed(2)} ms p99 ${uncached.p99Ms.toFixed(2)} ms | ${cacheName} p50 ${cached.p50Ms.toFixed(3)} ms p99 ${cached.p99Ms.toFixed(3)} ms`);
      }
    }
  } finally {
    await close();
  }
}

await main();
