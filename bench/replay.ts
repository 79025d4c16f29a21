/**
 * Replay throughput from the raw archive or the event log: events/s of the runner (recompute +
 * one commit per day), with the time split by store call.
 *
 *   node --import tsx bench/replay.ts [--profile embedded|cluster] [--source archive|log] [--events 200000] [--days 7] [--recent] [--verbose]
 *
 * --source log: the events are appended to the event log (received a few seconds after their ts,
 * in receive order) and the partition's checkpoint is its end, so every record counts; the
 * archive stays empty. Default: archive.
 *
 * --recent: events received within the dedup window, so every event is checked against the seen
 * set (the replay of recent days); otherwise history older than the window (no seen lookups).
 * The cluster profile needs the native stack (set -a; . .stack/env; set +a) and uses a namespace
 * of its own, dropped afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { EnrichedEvent } from '../core/event.ts';
import type { EventLog, RawArchive, Registry, ReplayJobRegistry, RollupStore } from '../core/ports/index.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../core/time.ts';
import { openEmbeddedStorage } from '../appliance/storage/embedded/index.ts';
import { createEmbeddedEventLog } from '../appliance/storage/embedded/event-log.ts';
import { loadConfig } from '../appliance/main/config.ts';
import { DEFAULT_RUNNER_CONFIG, dayKey, startReplayRunner } from '../pipeline/replay/index.ts';
import { getReplay, startReplay } from '../control/replays.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] && !process.argv[i + 1].startsWith('--') ? process.argv[i + 1] : fallback;
};
const profile = arg('profile', 'embedded');
const total = Number(arg('events', '200000'));
const days = Number(arg('days', '7'));
const recent = process.argv.includes('--recent');
const source = arg('source', 'archive') as 'archive' | 'log';
if (source !== 'archive' && source !== 'log') throw new Error(`--source must be archive or log, got ${source}`);
const SITE = 'AL-BENCH';
const OPTIONS = { sessionTimeoutMs: 30 * MINUTE_MS, topK: 100, logicVersion: 1 };

function events(now: number): EnrichedEvent[] {
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const first = today - (days - 1) * DAY_MS;
  const span = Math.min(days * DAY_MS, now - first - MINUTE_MS);
  const out: EnrichedEvent[] = [];
  const paths = ['/', '/pricing', '/docs', '/blog/a', '/blog/b', '/signup', '/about', '/docs/install'];
  const sources = ['', '', 'google.com', 'news.ycombinator.com', 'twitter.com'];
  const browsers = ['Chrome', 'Firefox', 'Safari', 'Edge'];
  let rnd = 12345;
  const r = () => ((rnd = (rnd * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const visitors = Math.max(1, Math.floor(total / 7));
  for (let v = 0; out.length < total; v = (v + 1) % visitors) {
    let ts = first + Math.floor(r() * span);
    const n = 1 + Math.floor(r() * 8);
    for (let i = 0; i < n && out.length < total; i++) {
      ts = Math.min(now - 1000, ts + Math.floor(r() * 10 * MINUTE_MS));
      const path = paths[Math.floor(r() * paths.length)];
      const custom = i > 0 && r() < 0.15;
      out.push({
        eventId: randomBytes(16).toString('hex'), trackingId: SITE, type: custom ? 'event' : 'pageview', name: custom ? 'Purchase' : '',
        url: `https://shop.example${path}`, host: 'shop.example', path, referrer: '', source: i === 0 ? sources[v % sources.length] : '',
        title: '', ts, receivedAt: source === 'log' ? Math.min(now, ts + Math.floor(r() * 5000)) : recent ? now - HOUR_MS : now - 10 * DAY_MS, props: {},
        revenue: custom ? { amount: 10 + (v % 90), currency: 'EUR' } : null,
        visitorId: `visitor-${v}-${Math.floor(ts / DAY_MS)}`, browser: browsers[v % 4], os: 'Linux', device: 'desktop', country: ['DE', 'US', 'FR'][v % 3],
        utmSource: '', utmMedium: '', utmCampaign: '', utmTerm: '', utmContent: '',
      });
    }
  }
  return out;
}

/** Wraps every method of `o` to add its time (ms) to `times[name]`; async iterables are timed per page. */
function timed<T extends object>(o: T, prefix: string, times: Record<string, number>): T {
  return new Proxy(o, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver);
      if (typeof v !== 'function') return v;
      const name = `${prefix}.${String(key)}`;
      return (...args: unknown[]) => {
        const t0 = performance.now();
        const out = v.apply(target, args);
        if (out && typeof (out as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
          const it = (out as AsyncIterable<unknown>)[Symbol.asyncIterator]();
          return {
            [Symbol.asyncIterator]: () => ({
              async next() {
                const s = performance.now();
                try { return await it.next(); } finally { times[name] = (times[name] ?? 0) + performance.now() - s; }
              },
            }),
          };
        }
        if (out instanceof Promise) return out.finally(() => (times[name] = (times[name] ?? 0) + performance.now() - t0));
        return out;
      };
    },
  });
}

async function main(): Promise<void> {
  let archive: RawArchive;
  let rollups: RollupStore;
  let registry: Registry;
  let partitions: number;
  let eventLog: EventLog;
  // Appends as a collector would have made them: at the events' receive time (the embedded log's
  // record time is its append time; Kafka's is the message timestamp, receivedAt).
  let appendAsReceived: (events: EnrichedEvent[]) => Promise<void>;
  let cleanup: () => Promise<void>;
  if (profile === 'cluster') {
    const ns = `bench_${randomBytes(4).toString('hex')}`;
    const base = process.env.ALMANAC_MONGO_URL ?? 'mongodb://127.0.0.1:27018/almanac';
    const config = loadConfig({ ...process.env, ALMANAC_PROFILE: 'cluster', ALMANAC_NAMESPACE: ns, ALMANAC_MONGO_URL: base.replace(/\/[^/?]*(\?.*)?$/, `/${ns}`) });
    const { openClusterStorage } = await import('../appliance/storage/cluster/index.ts');
    const { deleteKafkaTopic } = await import('../appliance/storage/cluster/kafka-event-log.ts');
    const s = await openClusterStorage(config, { topic: `${ns}.events`, keyspace: ns, redisKeyPrefix: `${ns}:`, log: () => {} });
    ({ archive, rollups, eventLog } = s);
    registry = s.registry;
    partitions = s.eventLog.partitions;
    appendAsReceived = (e) => s.eventLog.append(e);
    cleanup = async () => {
      const { MongoClient } = await import('mongodb');
      const cassandra = (await import('cassandra-driver')).default;
      await s.close();
      const m = new MongoClient(config.cluster.mongoUrl);
      await m.db(ns).dropDatabase().catch(() => {}).finally(() => m.close());
      const c = new cassandra.Client({ contactPoints: [...config.cluster.cassandraContactPoints], localDataCenter: config.cluster.cassandraDatacenter });
      await c.execute(`DROP KEYSPACE IF EXISTS ${ns}`).catch(() => {}).finally(() => c.shutdown());
      await deleteKafkaTopic(config.cluster.kafkaBrokers, `${ns}.events`).catch(() => {});
    };
  } else {
    const dir = mkdtempSync(path.join(tmpdir(), 'almanac-replay-bench-'));
    const s = openEmbeddedStorage({ path: path.join(dir, 'almanac.sqlite'), partitions: 4 });
    ({ archive, rollups, eventLog } = s);
    registry = s.registry;
    partitions = 4;
    let clock = 0;
    const appender = createEmbeddedEventLog(s.db, { partitions, now: () => clock });
    appendAsReceived = async (e) => {
      clock = Math.max(...e.map((x) => x.receivedAt));
      await appender.append(e);
    };
    cleanup = async () => {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    };
  }
  try {
    const now = Date.now();
    const list = events(now);
    let t0 = performance.now();
    if (source === 'log') {
      list.sort((a, b) => a.receivedAt - b.receivedAt);
      for (let i = 0; i < list.length; i += 2000) await appendAsReceived(list.slice(i, i + 2000));
      console.log(`${profile}: appended ${list.length} events over ${days} days to the event log in ${Math.round(performance.now() - t0)} ms`);
    } else {
      for (let i = 0; i < list.length; i += 5000) await archive.insert(list.slice(i, i + 5000));
      console.log(`${profile}: archived ${list.length} events over ${days} days in ${Math.round(performance.now() - t0)} ms`);
    }
    // From the log, every record below the checkpoint counts: the checkpoint is the end of the log.
    const checkpoint = async (p: number) => (source === 'log' ? (await eventLog.endOffsets())[p] : await rollups.checkpoint(p));
    if (recent) {
      t0 = performance.now();
      for (let i = 0; i < list.length; i += 2000) {
        await rollups.commit({ partition: 0, nextOffset: 0, buckets: [], sessions: [], seen: list.slice(i, i + 2000).map((e) => ({ trackingId: SITE, eventId: e.eventId, at: now - HOUR_MS })) });
      }
      console.log(`  marked seen in ${Math.round(performance.now() - t0)} ms`);
    }
    await registry.createTenant({ id: 'tn_bench', name: 'Bench', status: 'active', rateLimitPerSec: 1000, monthlyEventCap: null, retentionDays: 400 });
    await registry.createTrackingId({ id: SITE, tenantId: 'tn_bench', name: 'Bench', allowedOrigins: ['*'], serverKey: 'sk', status: 'active', respectDnt: false });
    const today = Math.floor(now / DAY_MS) * DAY_MS;
    const job = await startReplay(registry, { trackingIds: [SITE], from: dayKey(today - (days - 1) * DAY_MS), to: dayKey(today), source }, { eventLog });
    if (job.source !== source) throw new Error(`the job reads from ${job.source}, not ${source}`);
    const times: Record<string, number> = {};
    t0 = performance.now();
    const logTimed = timed(eventLog, 'log', times);
    const runner = startReplayRunner({
      registry, archive: timed(archive, 'archive', times), rollups: timed(rollups, 'rollups', times),
      eventLog: {
        partitions,
        committedOffsets: async () => new Array(partitions).fill(0),
        read: (p, from, max) => logTimed.read(p, from, max),
        offsetForTime: (p, ts) => logTimed.offsetForTime(p, ts),
        earliest: (p) => logTimed.earliest(p),
      },
      host: { owns: () => true, exclusive: async (p, fn) => fn(await checkpoint(p)), bumpDataVersions: async () => {} },
      log: process.argv.includes('--verbose') ? (m) => console.log(`  ${m}`) : undefined,
    }, { ...DEFAULT_RUNNER_CONFIG, options: OPTIONS, dedupWindowHours: 48, maxEventAgeHours: 72, pollMs: 20 });
    let j = await getReplay(registry, job.id);
    while (j.status !== 'done' && j.status !== 'failed') {
      await new Promise((r) => setTimeout(r, 50));
      j = await getReplay(registry, job.id);
    }
    const wall = performance.now() - t0;
    await runner.stop();
    if (j.status !== 'done') throw new Error(`replay ${j.status}: ${j.error}`);
    const p = j.progress;
    console.log(`  replay (${j.source}): ${p.eventsDone} events, ${p.daysDone} days, ${p.bucketsDone} buckets; ${p.eventsPerSec} events/s (chunk time ${p.elapsedMs} ms), wall ${Math.round(wall)} ms (${Math.round(p.eventsDone / (wall / 1000))} events/s incl. polling and progress updates)`);
    console.log(`  time by store call (ms): ${Object.entries(times).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${Math.round(v)}`).join(', ')}`);
  } finally {
    await cleanup();
  }
}

await main();
