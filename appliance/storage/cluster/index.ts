/**
 * The cluster profile's storage: Kafka (event log), MongoDB / FerretDB (raw archive, registry),
 * Cassandra (rollup store) and Redis (cache, rate limiter, node liveness, registry change
 * notifications). appliance/main/profiles.ts loads this module only for ALMANAC_PROFILE=cluster.
 *
 * All four services are connected in parallel at start; every one that cannot be reached is
 * reported at once, naming the setting that points at it. At run time:
 * - Kafka down: appends reject within ~1–5 s (the collector answers 503); consumers retry.
 * - Cassandra down: commits fail, the aggregator backs off and catches up later.
 * - MongoDB down: the archiver retries; registry lookups fail (the collector answers 503),
 *   except those still in the few-second registry cache.
 * - Redis down: queries run uncached, rate limiting is per process, registry changes reach
 *   other nodes by cache expiry only; nothing waits on Redis.
 */
import cassandra from 'cassandra-driver';
import { MongoClient } from 'mongodb';
import type { AlmanacConfig } from '../../main/config.ts';
import type { Storage } from '../storage.ts';
import type { RawArchive, Registry } from '../../../core/ports/index.ts';
import { createLocalRateLimiter } from '../../../core/rate-limit.ts';
import { openKafkaEventLog, DEFAULT_TOPIC, type KafkaEventLog, type KafkaEventLogOptions } from './kafka-event-log.ts';
import { createMongoArchive } from './mongo-archive.ts';
import { createMongoRegistry, REGISTRY_CHANNEL } from './mongo-registry.ts';
import { assertKeyspaceName, migrate, type MigrateResult } from './cassandra-schema.ts';
import { createCassandraRollupStore, type CassandraRollupStore, type CassandraRollupStoreOptions } from './cassandra-rollup-store.ts';
import {
  openRedis, createRedisCache, createRedisRateLimiter, createNodeLiveness, createRedisInvalidation,
  type NodeLiveness, type RedisConnection, type RedisRateLimiter,
} from './redis.ts';
import { withTimeout } from '../../../core/async.ts';

export { DEFAULT_TOPIC } from './kafka-event-log.ts';
export type { LiveNode, NodeLiveness } from './redis.ts';

export const DEFAULT_KEYSPACE = 'almanac';

/** What the configuration does not (yet) carry. Tests use it for unique topics and keyspaces. */
export interface ClusterStorageOptions {
  /** Kafka topic. Default `almanac.events`. */
  topic?: string;
  /** Cassandra keyspace. Default `almanac`. */
  keyspace?: string;
  /** Replication map used when the keyspace is created. Default SimpleStrategy, RF 1. */
  cassandraReplication?: Record<string, string | number>;
  /** Prefix of Redis keys. Default `almanac:`. */
  redisKeyPrefix?: string;
  kafka?: Partial<Omit<KafkaEventLogOptions, 'brokers' | 'partitions' | 'topic' | 'log'>>;
  rollups?: Partial<Omit<CassandraRollupStoreOptions, 'keyspace' | 'log'>>;
  /** Registry lookup cache TTL. Default 3000 ms. */
  registryCacheTtlMs?: number;
  /** Operational messages. Default: console.error. */
  log?: (message: string) => void;
}

export interface ClusterStorage extends Storage {
  eventLog: KafkaEventLog;
  rollups: CassandraRollupStore;
  rateLimiter: RedisRateLimiter;
  /** Node liveness on Redis: `almanac:nodes:<id>` keys refreshed with a TTL. */
  nodes: NodeLiveness;
  /** What the schema migration did at this start. */
  migrations: MigrateResult;
}

/** A setting that is wrong rather than a service that is down. */
class SetupError extends Error {}

export async function openClusterStorage(config: Readonly<AlmanacConfig>, options: ClusterStorageOptions = {}): Promise<ClusterStorage> {
  const log = options.log ?? ((m: string) => console.error(m));
  const c = config.cluster;
  const keyspace = options.keyspace ?? DEFAULT_KEYSPACE;
  assertKeyspaceName(keyspace);

  const [kafka, mongo, cql, redis] = await Promise.allSettled([
    openKafkaEventLog({
      brokers: c.kafkaBrokers,
      partitions: config.partitions,
      topic: options.topic ?? DEFAULT_TOPIC,
      retentionMs: config.pipeline.logRetentionHours * 3_600_000,
      sessionTimeoutMs: c.kafkaSessionTimeoutMs,
      ...options.kafka,
      log,
    }),
    openMongo(c.mongoUrl),
    openCassandra(c.cassandraContactPoints, c.cassandraDatacenter, keyspace, options.cassandraReplication, log),
    openRedis({ url: c.redisUrl, keyPrefix: options.redisKeyPrefix, log }),
  ]);

  const problems: string[] = [];
  const explain = (r: PromiseSettledResult<unknown>, service: string, where: string, setting: string) => {
    if (r.status === 'fulfilled') return;
    const err = r.reason as Error;
    problems.push(
      err instanceof SetupError || /ALMANAC_[A-Z_]+/.test(err.message)
        ? err.message
        : `cannot reach ${service} at ${where} (${setting}): ${err.message}; start it with npm run stack -- up, or fix ${setting}`,
    );
  };
  explain(kafka, 'Kafka', c.kafkaBrokers.join(','), 'ALMANAC_KAFKA_BROKERS');
  explain(mongo, 'MongoDB', redactUrl(c.mongoUrl), 'ALMANAC_MONGO_URL');
  explain(cql, 'Cassandra', `${c.cassandraContactPoints.join(',')} (data centre ${c.cassandraDatacenter})`, 'ALMANAC_CASSANDRA_CONTACT_POINTS / ALMANAC_CASSANDRA_DATACENTER');
  explain(redis, 'Redis', redactUrl(c.redisUrl), 'ALMANAC_REDIS_URL');
  if (problems.length > 0) {
    await Promise.all([
      kafka.status === 'fulfilled' && kafka.value.close(),
      mongo.status === 'fulfilled' && mongo.value.client.close(),
      cql.status === 'fulfilled' && cql.value.client.shutdown(),
      redis.status === 'fulfilled' && redis.value.close(),
    ].map((p) => Promise.resolve(p).catch(() => {})));
    throw new Error(`Almanac cannot start the cluster storage:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  const eventLog = (kafka as PromiseFulfilledResult<KafkaEventLog>).value;
  const { client: mongoClient, db } = (mongo as PromiseFulfilledResult<Awaited<ReturnType<typeof openMongo>>>).value;
  const { client: cqlClient, migrations } = (cql as PromiseFulfilledResult<Awaited<ReturnType<typeof openCassandra>>>).value;
  const redisConn = (redis as PromiseFulfilledResult<RedisConnection>).value;

  let archive: RawArchive;
  let registry: Registry;
  try {
    archive = await createMongoArchive(db);
    registry = await createMongoRegistry(db, {
      cacheTtlMs: options.registryCacheTtlMs,
      invalidation: createRedisInvalidation(redisConn, REGISTRY_CHANNEL),
    });
  } catch (err) {
    await Promise.all([eventLog.close(), mongoClient.close(), cqlClient.shutdown(), redisConn.close()].map((p) => p.catch(() => {})));
    throw new Error(`Almanac cannot start the cluster storage: preparing the MongoDB collections failed: ${(err as Error).message}`, { cause: err });
  }
  const rollups = createCassandraRollupStore(cqlClient, {
    keyspace,
    // The dedup window, plus an hour so an ID is never forgotten early by clock differences.
    seenTtlSeconds: config.pipeline.dedupWindowHours * 3600 + 3600,
    ...options.rollups,
    log,
  });
  const cache = createRedisCache(redisConn);
  const rateLimiter = createRedisRateLimiter(redisConn, createLocalRateLimiter());
  const nodes = createNodeLiveness(redisConn);

  let closing: Promise<void> | undefined;
  return {
    eventLog,
    archive,
    rollups,
    registry,
    cache,
    rateLimiter,
    nodes,
    migrations,
    async ping() {
      const [k, m, cq, r] = await Promise.all([
        eventLog.ping(2000),
        withTimeout(db.command({ ping: 1 }), 2000).then(() => true, () => false),
        rollups.ping(2000),
        redisConn.ping(1000),
      ]);
      return { kafka: k, mongodb: m, cassandra: cq, redis: r };
    },
    close() {
      closing ??= (async () => {
        // The event log first: it sends what was appended and stops the consumers, whose
        // in-flight batches may still write to the other stores.
        await eventLog.close().catch((e) => log(`closing Kafka: ${(e as Error).message}`));
        await Promise.all([archive.close(), registry.close(), rollups.close(), cache.close()]);
        await Promise.all([
          mongoClient.close().catch(() => {}),
          cqlClient.shutdown().catch(() => {}),
          redisConn.close().catch(() => {}),
        ]);
      })();
      return closing;
    },
  };
}

async function openMongo(url: string): Promise<{ client: MongoClient; db: ReturnType<MongoClient['db']> }> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000, connectTimeoutMS: 3000, appName: 'almanac' });
  try {
    await client.connect();
    // The database named in the URL, or `almanac`.
    const named = /^mongodb(?:\+srv)?:\/\/[^/]+\/([^?]+)/.exec(url)?.[1];
    const db = client.db(named ? decodeURIComponent(named) : 'almanac');
    await db.command({ ping: 1 });
    return { client, db };
  } catch (err) {
    await client.close().catch(() => {});
    throw err;
  }
}

async function openCassandra(
  contactPoints: readonly string[], dataCenter: string, keyspace: string,
  replication: Record<string, string | number> | undefined, log: (m: string) => void,
): Promise<{ client: cassandra.Client; migrations: MigrateResult }> {
  const client = new cassandra.Client({
    contactPoints: [...contactPoints],
    localDataCenter: dataCenter,
    queryOptions: { consistency: cassandra.types.consistencies.localQuorum, prepare: true, fetchSize: 5000 },
    socketOptions: { connectTimeout: 3000, readTimeout: 12_000 },
    protocolOptions: { maxSchemaAgreementWaitSeconds: 20 },
    policies: { reconnection: new cassandra.policies.reconnection.ExponentialReconnectionPolicy(500, 10_000, false) },
  });
  try {
    await client.connect();
  } catch (err) {
    await client.shutdown().catch(() => {});
    // NoHostAvailableError: one line per host instead of the inspected inner errors.
    const inner = (err as { innerErrors?: Record<string, Error> }).innerErrors;
    if (inner && Object.keys(inner).length > 0) {
      throw new Error(Object.entries(inner).map(([host, e]) => `${host}: ${e?.message ?? String(e)}`).join('; '), { cause: err });
    }
    throw err;
  }
  try {
    return { client, migrations: await migrate(client, { keyspace, replication, log }) };
  } catch (err) {
    await client.shutdown().catch(() => {});
    throw new SetupError(`Cassandra schema migration of keyspace ${keyspace} failed: ${(err as Error).message}`);
  }
}

function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}
