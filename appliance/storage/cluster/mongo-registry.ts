/**
 * The cluster profile's Registry on MongoDB (FerretDB v1 compatible). This file holds tenants,
 * tracking IDs and API keys (collections `tenants`, `tracking_ids`, `api_keys`) and composes the
 * other parts, one module per job: mongo-lookup-cache.ts (the read-through cache of tracking IDs
 * and API keys, invalidated across nodes), mongo-ingest-counts.ts (`ingest_counts`, one writer
 * per document), mongo-replay-jobs.ts, mongo-scaling.ts, mongo-embed-secrets.ts,
 * mongo-admin-registry.ts and mongo-salts.ts; mongo-documents.ts maps records to documents.
 *
 * The collector and the query service look up a tracking ID or an API key on every request, so
 * `getTrackingId` and `findApiKeyByHash` read through the cache (a few seconds, misses included).
 * A change made through any node is published on the Redis channel `almanac:registry`.
 */
import type { Db } from 'mongodb';
import type { ApiKeyRecord, Registry, ReplayJobRegistry, ScalingRegistry, Tenant, TrackingIdRecord } from '../../../core/ports/index.ts';
import { createMongoEmbedSecrets } from './mongo-embed-secrets.ts';
import { createMongoAdminRegistry } from './mongo-admin-registry.ts';
import { createMongoSalts } from './mongo-salts.ts';
import { fromDoc, insertOrExplain, toDoc, updateOne, type Doc } from './mongo-documents.ts';
import { createLookupCache, type RegistryInvalidation } from './mongo-lookup-cache.ts';
import { createMongoIngestCounts } from './mongo-ingest-counts.ts';
import { createMongoReplayJobs } from './mongo-replay-jobs.ts';
import { createMongoScaling } from './mongo-scaling.ts';

export type { RegistryInvalidation } from './mongo-lookup-cache.ts';

export const REGISTRY_CHANNEL = 'almanac:registry';

export interface MongoRegistryOptions {
  /** How long a looked-up tracking ID or API key (or its absence) is reused. Default 3000 ms. */
  cacheTtlMs?: number;
  /** Most cached entries. Default 10 000. */
  cacheMaxEntries?: number;
  invalidation?: RegistryInvalidation;
  now?: () => number;
}

export async function createMongoRegistry(db: Db, options: MongoRegistryOptions = {}): Promise<Registry & ReplayJobRegistry & ScalingRegistry> {
  const now = options.now ?? Date.now;
  const tenants = db.collection<Doc<Tenant>>('tenants');
  const trackingIds = db.collection<Doc<TrackingIdRecord>>('tracking_ids');
  const apiKeys = db.collection<Doc<ApiKeyRecord>>('api_keys');

  let closed = false;
  const assertOpen = () => {
    if (closed) throw new Error('The registry is closed. Open the storage again to use it.');
  };

  const [counts, replayJobs, scaling] = await Promise.all([
    createMongoIngestCounts(db, assertOpen),
    createMongoReplayJobs(db, now, assertOpen),
    createMongoScaling(db, now, assertOpen),
    trackingIds.createIndex({ tenantId: 1 }, { name: 'tenantId' }),
    apiKeys.createIndex({ keyHash: 1 }, { name: 'keyHash', unique: true }),
    apiKeys.createIndex({ tenantId: 1 }, { name: 'tenantId' }),
  ]);
  const cache = createLookupCache({
    ttlMs: options.cacheTtlMs ?? 3000,
    maxEntries: options.cacheMaxEntries ?? 10_000,
    invalidation: options.invalidation,
    now,
  });

  return {
    ...(await createMongoEmbedSecrets(db, now)), // dashboards: embed-token secrets
    ...(await createMongoAdminRegistry(db, now)), // control plane: admin users, sessions, audit log
    ...createMongoSalts(db, now), // visitor IDs: the daily salts
    ...replayJobs,
    ...scaling,
    addIngestCounts: counts.addIngestCounts,
    ingestCounts: counts.ingestCounts,

    async createTenant(t) {
      assertOpen();
      const record: Tenant = { ...t, createdAt: now() };
      await insertOrExplain(tenants, toDoc(record), `tenant ${t.id}`);
      return record;
    },
    async getTenant(id) {
      assertOpen();
      const d = await tenants.findOne({ _id: id });
      return d ? fromDoc<Tenant>(d) : undefined;
    },
    async listTenants() {
      assertOpen();
      return (await tenants.find({}).sort({ _id: 1 }).toArray()).map((d) => fromDoc<Tenant>(d));
    },
    async updateTenant(id, patch) {
      assertOpen();
      return updateOne(tenants, id, patch, 'tenant');
    },

    async createTrackingId(t) {
      assertOpen();
      const record: TrackingIdRecord = { ...t, allowedOrigins: [...t.allowedOrigins], createdAt: now() };
      await insertOrExplain(trackingIds, toDoc(record), `tracking ID ${t.id}`);
      await cache.invalidate('tid', t.id); // drops a cached "unknown"
      return record;
    },
    async getTrackingId(id) {
      assertOpen();
      return cache.cached('tid', id, async () => {
        const d = await trackingIds.findOne({ _id: id });
        return d ? fromDoc<TrackingIdRecord>(d) : undefined;
      });
    },
    async listTrackingIds(tenantId) {
      assertOpen();
      const docs = await trackingIds.find(tenantId === undefined ? {} : { tenantId }).sort({ _id: 1 }).toArray();
      return docs.map((d) => fromDoc<TrackingIdRecord>(d));
    },
    async updateTrackingId(id, patch) {
      assertOpen();
      try {
        return await updateOne(trackingIds, id, patch, 'tracking ID');
      } finally {
        await cache.invalidate('tid', id);
      }
    },

    async createApiKey(k) {
      assertOpen();
      const record: ApiKeyRecord = { ...k, createdAt: now() };
      await insertOrExplain(apiKeys, toDoc(record), `API key ${k.id}`);
      await cache.invalidate('key', k.keyHash);
      return record;
    },
    async findApiKeyByHash(keyHash) {
      assertOpen();
      return cache.cached('key', keyHash, async () => {
        const d = await apiKeys.findOne({ keyHash });
        return d ? fromDoc<ApiKeyRecord>(d) : undefined;
      });
    },
    async listApiKeys(tenantId) {
      assertOpen();
      const docs = await apiKeys.find(tenantId === undefined ? {} : { tenantId }).sort({ _id: 1 }).toArray();
      return docs.map((d) => fromDoc<ApiKeyRecord>(d));
    },

    async close() {
      if (closed) return;
      closed = true;
      // Stop listening and drop the cache, then let the counter updates in flight finish.
      cache.close();
      await counts.settle();
    },
  };
}
