/**
 * Measures the cluster adapters on the native stack:
 *   set -a; . .stack/env; set +a; npx tsx bench/storage-cluster.ts [kafka|cassandra|redis]
 *
 * kafka:     append throughput with acks = -1 at batches of 100 events, one append in flight and
 *            16 in flight (group-committed into shared sends), compression none vs gzip.
 * cassandra: commit latency of aggregator-shaped commits, produced by the real RollupState from
 *            synthetic traffic (batches of 10 events of one site; 100, 500 and 5000 events of 10
 *            sites), as the aggregator does:
 *            load sessions and buckets, apply, commit the dirty part.
 * redis:     the query cache as the cluster has it: p50/p99 of stats queries answered from Redis
 *            (a network round trip and JSON) next to the same queries from the in-process cache,
 *            over 30 days of hourly rollups held in memory (so the store does not blur the figures).
 * Uses its own topic, keyspace and Redis key prefix and removes them afterwards.
 */
import { randomUUID } from 'node:crypto';
import cassandra from 'cassandra-driver';
import type { EnrichedEvent } from '../core/event.ts';
import { RollupState } from '../pipeline/rollup/index.ts';
import { LOGIC_VERSION } from '../pipeline/logic-version.ts';
import { openKafkaEventLog, deleteKafkaTopic } from '../appliance/storage/cluster/kafka-event-log.ts';
import { migrate } from '../appliance/storage/cluster/cassandra-schema.ts';
import { createCassandraRollupStore } from '../appliance/storage/cluster/cassandra-rollup-store.ts';
import { createRedisCache, openRedis } from '../appliance/storage/cluster/redis.ts';
import { bench as queryBench } from './query.ts';
import { MemoryRollupStore } from '../tests/support/fakes/rollup-store.ts';

const which = process.argv[2] ?? 'all';
const PAGES = ['/', '/pricing', '/docs', '/blog/a', '/blog/b', '/signup', '/about', '/products/1', '/products/2', '/contact'];
const SOURCES = ['', 'google.com', 'news.ycombinator.com', 'twitter.com', 'duckduckgo.com'];
const COUNTRIES = ['DE', 'US', 'FR', 'GB', 'NL', 'SE', 'JP', 'BR'];

function event(site: string, ts: number, visitor: number): EnrichedEvent {
  const page = PAGES[visitor % PAGES.length];
  const source = SOURCES[visitor % SOURCES.length];
  return {
    eventId: randomUUID(), trackingId: site, type: 'pageview', name: '',
    url: `https://shop.example${page}`, host: 'shop.example', path: page,
    referrer: source ? `https://${source}/` : '', source, title: 'Page', ts, receivedAt: ts,
    props: {}, revenue: null, visitorId: `v${visitor.toString(16).padStart(12, '0')}`,
    browser: ['Firefox', 'Chrome', 'Safari'][visitor % 3], os: ['Linux', 'Windows', 'macOS', 'iOS'][visitor % 4],
    device: visitor % 3 === 0 ? 'mobile' : 'desktop', country: COUNTRIES[visitor % COUNTRIES.length],
    utmSource: visitor % 7 === 0 ? 'newsletter' : '', utmMedium: '', utmCampaign: '', utmTerm: '', utmContent: '',
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function benchKafka(): Promise<void> {
  const brokers = (process.env.ALMANAC_KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
  for (const compression of ['none', 'gzip'] as const) {
    const topic = `almanac.bench.${randomUUID().slice(0, 8)}`;
    const log = await openKafkaEventLog({ brokers, partitions: 6, topic, compression, log: () => {} });
    try {
      const sites = Array.from({ length: 50 }, (_, i) => `bench-site-${i}`);
      const batch = (n: number) => Array.from({ length: 100 }, (_, i) => event(sites[(n + i) % sites.length], Date.now(), n * 100 + i));
      await log.append(batch(0)); // warm-up: producer id, metadata
      const bytes = Buffer.byteLength(JSON.stringify(batch(0)[0]));
      for (const inFlight of [1, 16]) {
        const total = inFlight === 1 ? 300 : 1500;
        const latencies: number[] = [];
        let next = 0;
        const started = performance.now();
        await Promise.all(Array.from({ length: inFlight }, async () => {
          while (next < total) {
            const b = batch(next++);
            const t = performance.now();
            await log.append(b);
            latencies.push(performance.now() - t);
          }
        }));
        const secs = (performance.now() - started) / 1000;
        latencies.sort((a, b) => a - b);
        console.log(
          `kafka acks=-1 compression=${compression} batches of 100 (~${bytes} B/event), ${inFlight} in flight: ` +
          `${Math.round((total * 100) / secs)} events/s, ${Math.round(total / secs)} appends/s, ` +
          `append p50 ${percentile(latencies, 50).toFixed(1)} ms p99 ${percentile(latencies, 99).toFixed(1)} ms`,
        );
      }
    } finally {
      await log.close();
      await deleteKafkaTopic(brokers, topic);
    }
  }
}

async function benchCassandra(): Promise<void> {
  const keyspace = `almanac_bench_${randomUUID().replace(/-/g, '').slice(0, 8)}`;
  const client = new cassandra.Client({
    contactPoints: (process.env.ALMANAC_CASSANDRA_CONTACT_POINTS ?? '127.0.0.1:19042').split(','),
    localDataCenter: process.env.ALMANAC_CASSANDRA_DATACENTER ?? 'datacenter1',
    queryOptions: { consistency: cassandra.types.consistencies.localQuorum, prepare: true },
  });
  await client.connect();
  try {
    await migrate(client, { keyspace });
    const store = createCassandraRollupStore(client, { keyspace, seenTtlSeconds: 49 * 3600 });
    for (const [batchSize, siteCount] of [[10, 1], [100, 10], [500, 10], [5000, 10]] as const) {
      const partition = 1;
      const state = new RollupState({ sessionTimeoutMs: 30 * 60_000, topK: 100, logicVersion: LOGIC_VERSION });
      // A few thousand visitors, an event every 50 ms (batches of 5000 span ~4 minutes).
      const sites = Array.from({ length: siteCount }, (_, i) => `bench-${batchSize}-${i}`);
      let offset = 0;
      const t0 = Date.UTC(2030, 0, 1, 12);
      const rounds = batchSize === 5000 ? 6 : 20;
      const latencies: number[] = [];
      let last = store.lastCommit();
      for (let round = 0; round < rounds; round++) {
        const events = Array.from({ length: batchSize }, (_, i) => {
          const n = round * batchSize + i;
          return event(sites[n % sites.length], t0 + n * 50, Math.floor(Math.random() * 3000));
        });
        state.loadSessions(await store.getSessions(state.missingSessionKeys(events)));
        state.loadBuckets(await store.getBuckets(state.missingBucketKeys(events)));
        state.apply(events);
        const dirty = state.takeDirty();
        offset += events.length;
        const t = performance.now();
        await store.commit({
          partition, nextOffset: offset, buckets: dirty.buckets, sessions: dirty.sessions,
          seen: events.map((e) => ({ trackingId: e.trackingId, eventId: e.eventId, at: e.receivedAt })),
        });
        if (round > 0) latencies.push(performance.now() - t); // round 0 prepares statements
        last = store.lastCommit();
      }
      latencies.sort((a, b) => a - b);
      console.log(
        `cassandra commit of a ${batchSize}-event aggregator batch (${siteCount} site${siteCount > 1 ? 's' : ''}): p50 ${percentile(latencies, 50).toFixed(0)} ms ` +
        `p90 ${percentile(latencies, 90).toFixed(0)} ms (${latencies.length} commits; last: ${last?.path}, ` +
        `${last?.statements} statements, ~${Math.round((last?.estimatedBytes ?? 0) / 1024)} KiB)`,
      );
    }
  } finally {
    await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => {});
    await client.shutdown();
  }
}

async function benchRedis(): Promise<void> {
  const keyPrefix = `almanac_bench_${randomUUID().slice(0, 8)}:`;
  const redis = await openRedis({ url: process.env.ALMANAC_REDIS_URL ?? 'redis://127.0.0.1:16379', keyPrefix });
  try {
    const rollups = new MemoryRollupStore();
    const now = Date.now();
    const inProcess = await queryBench(rollups, { seed: true, iterations: 500, now });
    const inRedis = await queryBench(rollups, { iterations: 500, now, cache: createRedisCache(redis) });
    for (const name of ['aggregate', 'timeseriesDaily', 'timeseriesHourly'] as const) {
      const r = inRedis[name].cached;
      const m = inProcess[name].cached;
      console.log(
        `redis query cache, ${name.padEnd(16)} hit p50 ${r.p50Ms.toFixed(2)} ms p99 ${r.p99Ms.toFixed(2)} ms ` +
        `(in-process p50 ${m.p50Ms.toFixed(3)} ms; uncached p50 ${inRedis[name].uncached.p50Ms.toFixed(2)} ms)`,
      );
    }
  } finally {
    let cursor = '0';
    do {
      const [next, keys] = await redis.client.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await redis.client.del(...keys);
    } while (cursor !== '0');
    await redis.close();
  }
}

if (which === 'all' || which === 'kafka') await benchKafka();
if (which === 'all' || which === 'cassandra') await benchCassandra();
if (which === 'all' || which === 'redis') await benchRedis();
