/**
 * MongoDB-wire pieces of the cluster profile on the native stack (FerretDB v1): the archive's
 * duplicate counting, and the registry cache's cross-node invalidation over Redis pub/sub.
 * Uses its own database, dropped afterwards.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import type { RawArchive, Registry } from '../../../core/ports/index.ts';
import { makeEvent } from '../../../tests/contract/fixtures.ts';
import { createMongoArchive } from './mongo-archive.ts';
import { createMongoRegistry, REGISTRY_CHANNEL } from './mongo-registry.ts';
import { openRedis, createRedisInvalidation, type RedisConnection } from './redis.ts';

const mongoUrl = process.env.ALMANAC_MONGO_URL;
const redisUrl = process.env.ALMANAC_REDIS_URL;

describe('MongoDB archive and registry (stack)', { skip: !(mongoUrl && redisUrl) && 'needs the native stack (ALMANAC_MONGO_URL, ALMANAC_REDIS_URL)' }, () => {
  const database = `almanac_test_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
  let client: MongoClient;
  let db: Db;
  let archive: RawArchive;
  before(async () => {
    client = new MongoClient(mongoUrl!);
    await client.connect();
    db = client.db(database);
    archive = await createMongoArchive(db);
  });
  after(async () => {
    await db.dropDatabase().catch(() => {});
    await client.close();
  });

  test('duplicate inserts are counted, across insert chunks and within one call', async () => {
    const site = `dup-${randomUUID().slice(0, 8)}`;
    const events = Array.from({ length: 2500 }, (_, i) => makeEvent({ trackingId: site, ts: Date.UTC(2030, 0, 1) + i }));
    assert.deepEqual(await archive.insert(events.slice(0, 1200)), { inserted: 1200, duplicates: 0 });
    // 1200 already stored, 1300 new, and 10 repeated inside the call.
    const again = [...events, ...events.slice(2000, 2010)];
    assert.deepEqual(await archive.insert(again), { inserted: 1300, duplicates: 1210 });
    assert.equal(await archive.count({ trackingIds: [site], from: 0, to: Date.UTC(2031, 0, 1) }), 2500);
  });

  test('props whose keys FerretDB would refuse as field names round-trip', async () => {
    const site = `props-${randomUUID().slice(0, 8)}`;
    const e = makeEvent({ trackingId: site, props: { 'a.b': 1, $price: '9.90', '%x': 'y' } });
    assert.deepEqual(await archive.insert([e]), { inserted: 1, duplicates: 0 });
    const pages = [];
    for await (const page of archive.scan({ trackingIds: [site], from: 0, to: Number.MAX_SAFE_INTEGER })) pages.push(...page);
    assert.deepEqual(pages, [e]);
  });

  describe('registry cache invalidation across nodes', () => {
    let redisA: RedisConnection;
    let redisB: RedisConnection;
    let nodeA: Registry;
    let nodeB: Registry;
    const channel = `${REGISTRY_CHANNEL}:test:${randomUUID().slice(0, 8)}`;
    before(async () => {
      [redisA, redisB] = await Promise.all([openRedis({ url: redisUrl! }), openRedis({ url: redisUrl! })]);
      // A long TTL, so only the notification can explain a fresh answer.
      nodeA = await createMongoRegistry(db, { cacheTtlMs: 60_000, invalidation: createRedisInvalidation(redisA, channel) });
      nodeB = await createMongoRegistry(db, { cacheTtlMs: 60_000, invalidation: createRedisInvalidation(redisB, channel) });
      await new Promise((r) => setTimeout(r, 100)); // SUBSCRIBE is asynchronous
    });
    after(async () => {
      await Promise.all([nodeA.close(), nodeB.close()]);
      await Promise.all([redisA.close(), redisB.close()]);
    });

    test('a tracking ID changed on one node is seen on the other at once', async () => {
      const tenant = await nodeA.createTenant({ id: `t-${randomUUID().slice(0, 8)}`, name: 'T', status: 'active', rateLimitPerSec: 10, monthlyEventCap: null, retentionDays: 30 });
      const id = `tid-${randomUUID().slice(0, 8)}`;
      assert.equal(await nodeB.getTrackingId(id), undefined, 'B caches the miss');
      const created = await nodeA.createTrackingId({ id, tenantId: tenant.id, name: 'S', allowedOrigins: ['*'], serverKey: 'k', status: 'active', respectDnt: false });
      await waitUntil(async () => (await nodeB.getTrackingId(id)) !== undefined);
      assert.deepEqual(await nodeB.getTrackingId(id), created);
      await nodeA.updateTrackingId(id, { status: 'revoked' });
      await waitUntil(async () => (await nodeB.getTrackingId(id))?.status === 'revoked');
    });

    test('an API key created on one node is found on the other after a cached miss', async () => {
      const keyHash = `h-${randomUUID()}`;
      assert.equal(await nodeB.findApiKeyByHash(keyHash), undefined);
      await nodeA.createApiKey({ id: `k-${randomUUID().slice(0, 8)}`, tenantId: 't', name: 'n', keyHash, scope: 'tenant' });
      await waitUntil(async () => (await nodeB.findApiKeyByHash(keyHash)) !== undefined);
    });
  });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not seen within ${timeoutMs} ms (the cache TTL is 60 s, so the notification did not arrive)`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
