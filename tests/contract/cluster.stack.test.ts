/**
 * Runs every port contract against the cluster profile on the native stack (`npm run stack -- up`;
 * scripts/run-tests.mjs loads .stack/env). Each suite opens the whole cluster storage, the way the
 * appliance does, with names no other run uses: its own Kafka topic (deleted afterwards), its own
 * MongoDB database (dropped afterwards) and Redis key prefix (deleted afterwards). The Cassandra
 * keyspace `almanac_contract` is shared by runs (creating a keyspace costs seconds); the suite's
 * tracking IDs and partition numbers are unique, so runs do not see each other.
 */
import { describe, test } from 'node:test';
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { Redis } from 'ioredis';
import { loadConfig } from '../../appliance/main/config.ts';
import { openClusterStorage, type ClusterStorage } from '../../appliance/storage/cluster/index.ts';
import { deleteKafkaTopic } from '../../appliance/storage/cluster/kafka-event-log.ts';
import type { Harness } from './fixtures.ts';
import { eventLogContract } from './event-log.contract.ts';
import { rawArchiveContract } from './raw-archive.contract.ts';
import { rollupDeletionContract, rollupStoreContract } from './rollup-store.contract.ts';
import { embedSecretsContract } from './embed-secrets.contract.ts';
import { adminRegistryContract, registryContract, scalingRegistryContract } from './registry.contract.ts';
import type { Registry, ReplayJobRegistry } from '../../core/ports/index.ts';
import { cacheContract } from './cache.contract.ts';
import { replayJobContract } from './replay-jobs.contract.ts';

const stackUp = Boolean(process.env.ALMANAC_KAFKA_BROKERS && process.env.ALMANAC_MONGO_URL && process.env.ALMANAC_CASSANDRA_CONTACT_POINTS && process.env.ALMANAC_REDIS_URL);

function cluster<P>(pick: (s: ClusterStorage) => P): () => Promise<Harness<P>> {
  return async () => {
    const id = randomUUID().replace(/-/g, '').slice(0, 12);
    const mongoBase = process.env.ALMANAC_MONGO_URL!.replace(/\/[^/?]*(\?.*)?$/, '');
    const database = `almanac_contract_${id}`;
    const config = loadConfig({
      ...process.env,
      ALMANAC_PROFILE: 'cluster',
      ALMANAC_PARTITIONS: '4',
      ALMANAC_MONGO_URL: `${mongoBase}/${database}`,
    });
    const topic = `almanac.contract.${id}`;
    const redisKeyPrefix = `almanac-contract:${id}:`;
    const open = () => openClusterStorage(config, {
      topic,
      keyspace: 'almanac_contract',
      redisKeyPrefix,
      // The event log suite makes onBatch fail on purpose, the rollup store's fences on purpose; other messages should show.
      log: (m) => {
        if (!m.includes('simulated') && !/claimed (partition|it)/.test(m)) console.error(m);
      },
    });
    const storage = await open();
    const others: ClusterStorage[] = [];
    return {
      port: pick(storage),
      async another() {
        const other = await open();
        others.push(other);
        return pick(other);
      },
      async cleanup() {
        for (const other of others) await other.close();
        await storage.close();
        await deleteKafkaTopic(config.cluster.kafkaBrokers, topic);
        const mongo = new MongoClient(config.cluster.mongoUrl);
        try {
          await mongo.db(database).dropDatabase();
        } finally {
          await mongo.close();
        }
        const redis = new Redis(config.cluster.redisUrl);
        try {
          let cursor = '0';
          do {
            const [next, keys] = await redis.scan(cursor, 'MATCH', `${redisKeyPrefix}*`, 'COUNT', 500);
            cursor = next;
            if (keys.length > 0) await redis.del(...keys);
          } while (cursor !== '0');
        } finally {
          redis.disconnect();
        }
      },
    };
  };
}

if (!stackUp) {
  describe('cluster profile contracts', () => {
    test('needs the native stack (npm run stack -- up; run through scripts/run-tests.mjs)', { skip: true }, () => {});
  });
} else {
  eventLogContract('cluster event log (Kafka)', cluster((s) => s.eventLog));
  rawArchiveContract('cluster raw archive (MongoDB wire / FerretDB)', cluster((s) => s.archive));
  rollupStoreContract('cluster rollup store (Cassandra)', cluster((s) => s.rollups));
  rollupDeletionContract('cluster rollup store: tenant deletion (Cassandra)', cluster((s) => s.rollups));
  registryContract('cluster registry (MongoDB wire / FerretDB)', cluster((s) => s.registry));
  adminRegistryContract('cluster registry: admin users, sessions, audit (MongoDB wire / FerretDB)', cluster((s) => s.registry));
  embedSecretsContract('cluster registry: embed secrets (MongoDB wire / FerretDB)', cluster((s) => s.registry));
  scalingRegistryContract('cluster registry: scaling (MongoDB wire / FerretDB)', cluster((s) => s.registry), { scalable: true });
  replayJobContract('cluster registry: replay jobs (MongoDB wire / FerretDB)', cluster((s) => s.registry as Registry & ReplayJobRegistry));
  cacheContract('cluster cache (Redis)', cluster((s) => s.cache));
}
