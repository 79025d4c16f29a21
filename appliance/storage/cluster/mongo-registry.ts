/**
 * The cluster profile's Registry on MongoDB (FerretDB v1 compatible): collections `tenants`,
 * `tracking_ids`, `api_keys`, `ingest_counts` and `daily_salts`.
 *
 * The collector and the query service look up a tracking ID or an API key on every request, so
 * `getTrackingId` and `findApiKeyByHash` read through a small in-process cache (a few seconds,
 * misses included). A change made through any node is published on the Redis channel
 * `almanac:registry`; every node drops the entry at once. When Redis is down the TTL alone
 * bounds how long another node can answer from an old copy.
 *
 * Ingest counters: FerretDB v1 does not make a concurrent `$inc` atomic (measured: 50
 * concurrent `$inc` of one document on FerretDB 1.24 / SQLite left it at 5, and a
 * compare-and-set loop lost updates too). So no document is ever updated by two writers at once:
 * each Registry instance has its own writer ID and owns the documents
 * `<trackingId>|<day>|<writer>`; its updates of one document are queued in process. A day's
 * counts are the sum over the writers that counted that day (a handful of documents per site
 * and day: one per process lifetime). On MongoDB proper the same scheme is simply correct too.
 */
import { randomUUID } from 'node:crypto';
import type { Collection, Db, UpdateFilter } from 'mongodb';
import type { ApiKeyRecord, NodeStatus, Registry, ReplayJob, ReplayJobRegistry, ScalingRegistry, Tenant, TrackingIdRecord, WorkerCounts } from '../../../core/ports.ts';
import { assertDesiredScale } from '../../../control/desired-scale.ts';
import { createMongoEmbedSecrets } from './mongo-embed-secrets.ts';
import { createMongoAdminRegistry } from './mongo-admin-registry.ts';
import { createMongoSalts } from './mongo-salts.ts';

export const REGISTRY_CHANNEL = 'almanac:registry';

/** How a registry change reaches the other nodes (Redis pub/sub in the cluster profile). */
export interface RegistryInvalidation {
  publish(message: string): Promise<void>;
  /** Returns an unsubscribe function. */
  subscribe(onMessage: (message: string) => void): () => void;
}

export interface MongoRegistryOptions {
  /** How long a looked-up tracking ID or API key (or its absence) is reused. Default 3000 ms. */
  cacheTtlMs?: number;
  /** Most cached entries. Default 10 000. */
  cacheMaxEntries?: number;
  invalidation?: RegistryInvalidation;
  now?: () => number;
}

type Doc<T extends { id: string }> = Omit<T, 'id'> & { _id: string };
interface CountDoc {
  _id: string;
  trackingId: string;
  day: number;
  writer: string;
  c: Record<string, number>;
}

type CacheKind = 'tid' | 'key';

export async function createMongoRegistry(db: Db, options: MongoRegistryOptions = {}): Promise<Registry & ReplayJobRegistry & ScalingRegistry> {
  const now = options.now ?? Date.now;
  const ttlMs = options.cacheTtlMs ?? 3000;
  const maxEntries = options.cacheMaxEntries ?? 10_000;
  const tenants = db.collection<Doc<Tenant>>('tenants');
  const trackingIds = db.collection<Doc<TrackingIdRecord>>('tracking_ids');
  const apiKeys = db.collection<Doc<ApiKeyRecord>>('api_keys');
  const counts = db.collection<CountDoc>('ingest_counts');
  const replayJobs = db.collection<Doc<ReplayJob>>('replay_jobs');
  // Cancel requests live in their own documents: the runner updates a job's progress while an
  // admin asks to cancel it, and FerretDB v1 can lose one of two concurrent updates of a document.
  const replayCancels = db.collection<{ _id: string; at: number }>('replay_cancels');
  // Scaling: one document per node in each. A node's report is written only by its own
  // supervisor, and a desired scale is replaced whole, so no two writers merge into one document.
  const desiredScale = db.collection<{ _id: string; counts: WorkerCounts; updatedAt: number }>('desired_scale');
  const nodes = db.collection<{ _id: string; lastSeenAt: number; status: NodeStatus }>('nodes');
  await Promise.all([
    replayJobs.createIndex({ status: 1, createdAt: 1 }, { name: 'status_createdAt' }),
    trackingIds.createIndex({ tenantId: 1 }, { name: 'tenantId' }),
    apiKeys.createIndex({ keyHash: 1 }, { name: 'keyHash', unique: true }),
    apiKeys.createIndex({ tenantId: 1 }, { name: 'tenantId' }),
    counts.createIndex({ trackingId: 1, day: 1 }, { name: 'trackingId_day' }),
    nodes.createIndex({ lastSeenAt: 1 }, { name: 'lastSeenAt' }),
  ]);

  // ---------------------------------------------------------------- read-through cache
  const cache = new Map<string, { value: unknown; expires: number }>();
  /** Bumped by every invalidation, so a load that started before a change does not store the old value. */
  const versions = new Map<string, number>();
  const cacheKey = (kind: CacheKind, key: string) => `${kind}:${key}`;

  function invalidateLocal(k: string): void {
    cache.delete(k);
    versions.set(k, (versions.get(k) ?? 0) + 1);
    if (versions.size > maxEntries * 2) versions.clear();
  }
  async function invalidate(kind: CacheKind, key: string): Promise<void> {
    const k = cacheKey(kind, key);
    invalidateLocal(k);
    // Best effort: without Redis the other nodes see the change when their entry expires.
    await options.invalidation?.publish(JSON.stringify({ k })).catch(() => {});
  }
  const unsubscribe = options.invalidation?.subscribe((message) => {
    try {
      const { k } = JSON.parse(message) as { k?: unknown };
      if (typeof k === 'string') invalidateLocal(k);
    } catch {
      // Not ours.
    }
  });
  async function cached<T>(kind: CacheKind, key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const k = cacheKey(kind, key);
    const hit = cache.get(k);
    if (hit && hit.expires > now()) return clone(hit.value as T | undefined);
    const version = versions.get(k) ?? 0;
    const value = await load();
    if ((versions.get(k) ?? 0) === version) {
      cache.delete(k);
      cache.set(k, { value, expires: now() + ttlMs });
      if (cache.size > maxEntries) cache.delete(cache.keys().next().value as string);
    }
    return clone(value);
  }

  // ---------------------------------------------------------------- ingest counters
  const writer = randomUUID().slice(0, 12);
  const countQueues = new Map<string, Promise<void>>();

  let closed = false;
  const assertOpen = () => {
    if (closed) throw new Error('The registry is closed. Open the storage again to use it.');
  };

  return {
    ...(await createMongoEmbedSecrets(db, now)), // dashboards (issue 6): embed-token secrets
    ...(await createMongoAdminRegistry(db, now)), // control plane (issue 5): admin users, sessions, audit log
    ...createMongoSalts(db, now), // visitor IDs (issue 11): the daily salts
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
      await invalidate('tid', t.id); // drops a cached "unknown"
      return record;
    },
    async getTrackingId(id) {
      assertOpen();
      return cached('tid', id, async () => {
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
        await invalidate('tid', id);
      }
    },

    async createApiKey(k) {
      assertOpen();
      const record: ApiKeyRecord = { ...k, createdAt: now() };
      await insertOrExplain(apiKeys, toDoc(record), `API key ${k.id}`);
      await invalidate('key', k.keyHash);
      return record;
    },
    async findApiKeyByHash(keyHash) {
      assertOpen();
      return cached('key', keyHash, async () => {
        const d = await apiKeys.findOne({ keyHash });
        return d ? fromDoc<ApiKeyRecord>(d) : undefined;
      });
    },
    async listApiKeys(tenantId) {
      assertOpen();
      const docs = await apiKeys.find(tenantId === undefined ? {} : { tenantId }).sort({ _id: 1 }).toArray();
      return docs.map((d) => fromDoc<ApiKeyRecord>(d));
    },

    async addIngestCounts(trackingId, day, add) {
      assertOpen();
      const inc: Record<string, number> = {};
      for (const [name, n] of Object.entries(add)) if (n !== 0) inc[`c.${encodeField(name)}`] = n;
      if (Object.keys(inc).length === 0) return;
      const _id = `${trackingId}|${day}|${writer}`;
      const previous = countQueues.get(_id) ?? Promise.resolve();
      const mine = previous.catch(() => {}).then(async () => {
        await counts.updateOne(
          { _id },
          { $inc: inc, $setOnInsert: { trackingId, day, writer } } as unknown as UpdateFilter<CountDoc>,
          { upsert: true },
        );
      });
      countQueues.set(_id, mine);
      try {
        await mine;
      } finally {
        if (countQueues.get(_id) === mine) countQueues.delete(_id);
      }
    },
    async ingestCounts(trackingId, fromDay, toDay) {
      assertOpen();
      const out: Record<string, number> = {};
      for (const d of await counts.find({ trackingId, day: { $gte: fromDay, $lt: toDay } }).toArray()) {
        for (const [field, n] of Object.entries(d.c ?? {})) {
          const name = decodeField(field);
          out[name] = (out[name] ?? 0) + n;
        }
      }
      return out;
    },

    async createReplayJob(job) {
      assertOpen();
      await insertOrExplain(replayJobs, toDoc(job), `replay job ${job.id}`);
      if (job.cancelRequested) await replayCancels.updateOne({ _id: job.id }, { $setOnInsert: { at: now() } }, { upsert: true });
      return structuredClone(job);
    },
    async getReplayJob(id) {
      assertOpen();
      const [d, cancel] = await Promise.all([replayJobs.findOne({ _id: id }), replayCancels.findOne({ _id: id })]);
      return d ? { ...fromDoc<ReplayJob>(d), cancelRequested: d.cancelRequested || cancel !== null } : undefined;
    },
    async listReplayJobs(filter = {}) {
      assertOpen();
      if (filter.status?.length === 0) return [];
      const docs = await replayJobs.find(filter.status ? { status: { $in: filter.status } } : {}).sort({ createdAt: 1, _id: 1 }).toArray();
      const jobs = docs.map((d) => fromDoc<ReplayJob>(d));
      const picked = filter.limit !== undefined ? jobs.slice(Math.max(0, jobs.length - filter.limit)) : jobs;
      if (picked.length === 0) return picked;
      const cancelled = new Set((await replayCancels.find({ _id: { $in: picked.map((j) => j.id) } }).toArray()).map((c) => c._id));
      return picked.map((j) => ({ ...j, cancelRequested: j.cancelRequested || cancelled.has(j.id) }));
    },
    async updateReplayJob(id, patch) {
      assertOpen();
      const { cancelRequested, ...rest } = patch;
      // cancelRequested is kept out of the job document's updates (see replayCancels).
      const job = await updateOne<ReplayJob>(replayJobs, id, rest, 'replay job');
      if (cancelRequested) await replayCancels.updateOne({ _id: id }, { $setOnInsert: { at: now() } }, { upsert: true });
      const cancel = cancelRequested || job.cancelRequested || (await replayCancels.findOne({ _id: id })) !== null;
      return { ...job, cancelRequested: cancel };
    },

    async getDesiredScale(nodeId) {
      assertOpen();
      const d = await desiredScale.findOne({ _id: nodeId });
      return d ? { ...d.counts } : undefined;
    },
    async setDesiredScale(nodeId, desired) {
      assertOpen();
      assertDesiredScale(desired, 'cluster');
      const { collector, archiver, aggregator, query } = desired;
      await desiredScale.replaceOne({ _id: nodeId }, { counts: { collector, archiver, aggregator, query }, updatedAt: now() }, { upsert: true });
    },
    async reportNode(status) {
      assertOpen();
      await nodes.replaceOne({ _id: status.nodeId }, { lastSeenAt: status.lastSeenAt, status: structuredClone(status) }, { upsert: true });
    },
    async listNodes(maxAgeMs = 15_000) {
      assertOpen();
      const docs = await nodes.find({ lastSeenAt: { $gte: now() - maxAgeMs } }).sort({ _id: 1 }).toArray();
      return docs.map((d) => d.status);
    },

    async close() {
      if (closed) return;
      closed = true;
      unsubscribe?.();
      await Promise.all([...countQueues.values()].map((p) => p.catch(() => {})));
      cache.clear();
    },
  };
}

function toDoc<T extends { id: string }>(record: T): Doc<T> {
  const { id, ...rest } = record;
  return { _id: id, ...rest } as Doc<T>;
}

function fromDoc<T extends { id: string }>(doc: object): T {
  const { _id, ...rest } = doc as { _id: string };
  return { id: _id, ...rest } as unknown as T;
}

function clone<T>(v: T): T {
  return v === undefined ? v : structuredClone(v);
}

async function insertOrExplain<T extends { _id: string }>(collection: Collection<T>, doc: T, what: string): Promise<void> {
  try {
    await collection.insertOne(doc as Parameters<Collection<T>['insertOne']>[0]);
  } catch (err) {
    if ((err as { code?: number }).code === 11000) throw new Error(`${what} already exists (or its key hash is already used).`, { cause: err });
    throw err;
  }
}

async function updateOne<T extends { id: string }>(collection: Collection<Doc<T>>, id: string, patch: object, what: string): Promise<T> {
  const set: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(patch)) {
    if (v !== undefined && k !== 'id' && k !== '_id' && k !== 'createdAt') set[k] = v;
  }
  const filter = { _id: id } as Parameters<Collection<Doc<T>>['findOne']>[0];
  if (Object.keys(set).length === 0) {
    const d = await collection.findOne(filter);
    if (!d) throw new Error(`No ${what} with ID ${id}.`);
    return fromDoc<T>(d);
  }
  const d = await collection.findOneAndUpdate(filter, { $set: set } as UpdateFilter<Doc<T>>, { returnDocument: 'after' });
  if (!d) throw new Error(`No ${what} with ID ${id}.`);
  return fromDoc<T>(d);
}

/** Counter names become field names: '.', '$' and '%' are escaped (FerretDB rejects the first two). */
function encodeField(name: string): string {
  return name.replace(/%/g, '%25').replace(/\./g, '%2E').replace(/\$/g, '%24');
}
function decodeField(field: string): string {
  return field.replace(/%2E/g, '.').replace(/%24/g, '$').replace(/%25/g, '%');
}
