/**
 * openClusterStorage on the native stack. (Not through appliance/main/profiles.ts: that would use the
 * shared default topic and keyspace, which a test must not create with its own partition count.)
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { loadConfig } from '../../main/config.ts';
import { openClusterStorage } from './index.ts';
import { deleteKafkaTopic } from './kafka-event-log.ts';

const stackUp = Boolean(process.env.ALMANAC_KAFKA_BROKERS && process.env.ALMANAC_MONGO_URL && process.env.ALMANAC_CASSANDRA_CONTACT_POINTS && process.env.ALMANAC_REDIS_URL);

describe('openClusterStorage (stack)', { skip: !stackUp && 'needs the native stack' }, () => {
  test('services that cannot be reached are all named, with their setting, within seconds', { timeout: 60_000 }, async (t) => {
    const config = loadConfig({
      ALMANAC_PROFILE: 'cluster',
      // Closed ports on loopback: refused at once.
      ALMANAC_KAFKA_BROKERS: '127.0.0.1:1',
      ALMANAC_MONGO_URL: 'mongodb://127.0.0.1:2/almanac',
      ALMANAC_CASSANDRA_CONTACT_POINTS: '127.0.0.1:3',
      ALMANAC_REDIS_URL: 'redis://127.0.0.1:4',
    });
    const started = Date.now();
    const err = await openClusterStorage(config, { log: () => {} }).then(() => undefined, (e: Error) => e);
    const ms = Date.now() - started;
    t.diagnostic(`failed after ${ms} ms:\n${err?.message}`);
    assert.ok(err, 'openClusterStorage rejected');
    assert.ok(ms < 15_000, `took ${ms} ms`);
    assert.match(err.message, /cannot reach Kafka at 127\.0\.0\.1:1 \(ALMANAC_KAFKA_BROKERS\): .*npm run stack -- up/);
    assert.match(err.message, /cannot reach MongoDB at mongodb:\/\/127\.0\.0\.1:2\/almanac \(ALMANAC_MONGO_URL\)/);
    assert.match(err.message, /cannot reach Cassandra at 127\.0\.0\.1:3 .*\(ALMANAC_CASSANDRA_CONTACT_POINTS/);
    assert.match(err.message, /cannot reach Redis at redis:\/\/127\.0\.0\.1:4 \(ALMANAC_REDIS_URL\)/);
  });

  test('pings every service, and a second start migrates nothing', { timeout: 120_000 }, async () => {
    const id = randomUUID().replace(/-/g, '').slice(0, 10);
    const mongoBase = process.env.ALMANAC_MONGO_URL!.replace(/\/[^/?]*(\?.*)?$/, '');
    const config = loadConfig({ ...process.env, ALMANAC_PROFILE: 'cluster', ALMANAC_PARTITIONS: '2', ALMANAC_MONGO_URL: `${mongoBase}/almanac_test_${id}` });
    const topic = `almanac.test.${id}`;
    const options = { topic, keyspace: 'almanac_contract', redisKeyPrefix: `almanac-test:${id}:`, log: () => {} };
    try {
      const first = await openClusterStorage(config, options);
      assert.deepEqual(await first.ping(), { kafka: true, mongodb: true, cassandra: true, redis: true });
      await first.close();
      const second = await openClusterStorage(config, options);
      assert.deepEqual(second.migrations.applied, []);
      await second.close();
    } finally {
      await deleteKafkaTopic(config.cluster.kafkaBrokers, topic).catch(() => {});
      const mongo = new MongoClient(config.cluster.mongoUrl);
      await mongo.db(`almanac_test_${id}`).dropDatabase().catch(() => {});
      await mongo.close();
    }
  });
});
