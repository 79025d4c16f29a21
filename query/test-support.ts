/**
 * Small in-memory fakes of OUR ports for the query tests, plus a builder of consistent rollups:
 * the same hits summed into minute, hour and day buckets, as the aggregator would, so tests can
 * check that mixed-granularity reads agree.
 */
import { Hll } from '../core/sketch/hll.ts';
import type { AdminRegistry, ApiKeyRecord, Cache, EmbedSecretRegistry, Registry, ReplayJobRegistry, RollupCommit, RollupStore, ScalingRegistry, Tenant, TrackingIdRecord } from '../core/ports/index.ts';
import { createMemoryAdmin, createMemoryEmbedSecrets, createMemoryReplayJobs, createMemoryScaling } from '../tests/support/fakes/memory-registry-parts.ts';
import { emptyCounters, type BreakdownRow, type BucketKey, type Dimension, type RollupRow, type StoredBucket } from '../core/rollup/model.ts';
import { bucketStart, GRANULARITIES, type Granularity } from '../core/time.ts';
import { hashApiKey as sha256Hex } from '../core/api-key.ts';

// ---------------------------------------------------------------- rollups

/** One visit in test data: a visitor's session, counted in the bucket of `ts`. */
export interface Hit {
  ts: number;
  visitor: string;
  pageviews?: number;
  events?: number;
  bounce?: boolean;
  durationMs?: number;
  conversions?: number;
  revenue?: Record<string, number>;
  dims?: Partial<Record<Dimension, string>>;
}

interface MutableRow {
  counters: ReturnType<typeof emptyCounters>;
  hll: Hll;
}

/** Minute, hour and day buckets holding `hits`; minute buckets carry totals only, like the real ones. */
export function bucketsFromHits(trackingId: string, hits: readonly Hit[], granularities: readonly Granularity[] = GRANULARITIES): StoredBucket[] {
  const buckets = new Map<string, { key: BucketKey; totals: MutableRow; breakdowns: Map<string, MutableRow> }>();
  for (const hit of hits) {
    for (const granularity of granularities) {
      const start = bucketStart(hit.ts, granularity);
      const id = `${granularity}|${start}`;
      let b = buckets.get(id);
      if (!b) buckets.set(id, (b = { key: { trackingId, granularity, start }, totals: newRow(), breakdowns: new Map() }));
      addHit(b.totals, hit);
      if (granularity === 'minute') continue;
      for (const [dim, value] of Object.entries(hit.dims ?? {})) {
        const k = `${dim}\u0000${value}`;
        let r = b.breakdowns.get(k);
        if (!r) b.breakdowns.set(k, (r = newRow()));
        addHit(r, hit);
      }
    }
  }
  return [...buckets.values()].map((b) => ({
    ...b.key,
    totals: toRow(b.totals),
    breakdowns: [...b.breakdowns].map(([k, r]): BreakdownRow => {
      const [dimension, value] = k.split('\u0000') as [Dimension, string];
      return { ...toRow(r), dimension, value };
    }),
    logicVersion: 1,
  }));
}

function newRow(): MutableRow {
  return { counters: emptyCounters(), hll: Hll.create() };
}

function addHit(r: MutableRow, hit: Hit): void {
  const c = r.counters;
  c.pageviews += hit.pageviews ?? 1;
  c.events += hit.events ?? 0;
  c.visits += 1;
  c.bounces += hit.bounce === false ? 0 : 1;
  c.durationMs += hit.durationMs ?? 0;
  c.conversions += hit.conversions ?? 0;
  for (const [cur, v] of Object.entries(hit.revenue ?? {})) c.revenue[cur] = (c.revenue[cur] ?? 0) + v;
  r.hll.add(hit.visitor);
}

function toRow(r: MutableRow): RollupRow {
  return { ...r.counters, revenue: { ...r.counters.revenue }, visitors: r.hll.toBytes() };
}

export interface MemoryRollupStoreOptions {
  /** Each read waits this long first (to let concurrent requests pile up). */
  readDelayMs?: number;
}

/** RollupStore in memory; counts reads. Only the read side and commit are real. */
export class MemoryRollupStore implements RollupStore {
  readonly buckets = new Map<string, StoredBucket>();
  /** readTotals + readBreakdown calls. */
  reads = 0;
  private checkpoints = new Map<number, number>();

  constructor(private readonly options: MemoryRollupStoreOptions = {}) {}

  put(buckets: readonly StoredBucket[]): this {
    for (const b of buckets) this.buckets.set(`${b.trackingId}|${b.granularity}|${b.start}`, b);
    return this;
  }

  async checkpoint(partition: number): Promise<number> {
    return this.checkpoints.get(partition) ?? 0;
  }

  /** One process, one instance: nothing to fence. */
  async claim(partition: number): Promise<number> {
    return this.checkpoint(partition);
  }

  async commit(write: RollupCommit): Promise<void> {
    this.put(write.buckets);
    this.checkpoints.set(write.partition, write.nextOffset);
  }

  async getBuckets(keys: readonly BucketKey[]): Promise<StoredBucket[]> {
    return keys.flatMap((k) => this.buckets.get(`${k.trackingId}|${k.granularity}|${k.start}`) ?? []);
  }

  async getSessions(): Promise<never[]> {
    return [];
  }

  async seenEventIds(): Promise<Set<string>> {
    return new Set();
  }

  async readTotals(trackingId: string, granularity: Granularity, from: number, to: number): Promise<(RollupRow & { start: number })[]> {
    await this.delay();
    return this.select(trackingId, granularity, from, to).map((b) => ({ ...b.totals, start: b.start }));
  }

  async readBreakdown(trackingId: string, granularity: Granularity, from: number, to: number, dimension: Dimension): Promise<(BreakdownRow & { start: number })[]> {
    await this.delay();
    return this.select(trackingId, granularity, from, to).flatMap((b) => b.breakdowns.filter((r) => r.dimension === dimension).map((r) => ({ ...r, start: b.start })));
  }

  async prune(): Promise<void> {}
  async deleteTrackingId(trackingId: string, range: { from: number; to: number }): Promise<void> {
    for (const [k, b] of this.buckets) if (b.trackingId === trackingId && b.start >= range.from && b.start < range.to) this.buckets.delete(k);
  }
  async close(): Promise<void> {}

  private select(trackingId: string, granularity: Granularity, from: number, to: number): StoredBucket[] {
    this.reads++;
    return [...this.buckets.values()]
      .filter((b) => b.trackingId === trackingId && b.granularity === granularity && b.start >= from && b.start < to)
      .sort((a, b) => a.start - b.start);
  }

  private delay(): Promise<void> {
    const ms = this.options.readDelayMs ?? 0;
    return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
  }
}

// ---------------------------------------------------------------- cache

/** Cache in memory with TTLs on the given clock; counts calls. */
export class MemoryCache implements Cache {
  private readonly entries = new Map<string, { value: string; expiresAt: number }>();
  gets = 0;
  sets = 0;
  /** Set to make every call fail (cache down). */
  failing = false;

  constructor(private readonly now: () => number = Date.now) {}

  async get(key: string): Promise<string | undefined> {
    this.check();
    this.gets++;
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.check();
    this.sets++;
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs });
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async incr(key: string): Promise<number> {
    this.check();
    const n = Number((await this.get(key)) ?? 0) + 1;
    this.entries.set(key, { value: String(n), expiresAt: Infinity });
    return n;
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<string> {
    const existing = await this.get(key);
    if (existing !== undefined) return existing;
    await this.set(key, value, ttlMs);
    return value;
  }

  /** TTL of a stored key, ms from now (to check which TTL a query got). */
  ttlOf(key: string): number | undefined {
    const e = this.entries.get(key);
    return e ? e.expiresAt - this.now() : undefined;
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  async close(): Promise<void> {}

  private check(): void {
    if (this.failing) throw new Error('cache down');
  }
}

// ---------------------------------------------------------------- registry

/** Registry in memory; counts key lookups. */
/** The registry's control-plane parts (replay jobs, scaling, admin, embed secrets), in memory: see the constructor. */
export interface MemoryRegistry extends ReplayJobRegistry, ScalingRegistry, AdminRegistry, EmbedSecretRegistry {}

export class MemoryRegistry implements Registry {
  private readonly tenants = new Map<string, Tenant>();
  private readonly trackingIds = new Map<string, TrackingIdRecord>();
  private readonly apiKeys = new Map<string, ApiKeyRecord>();
  private readonly ingest = new Map<string, Record<string, number>>();
  keyLookups = 0;
  siteLookups = 0;

  constructor() {
    const secrets = createMemoryEmbedSecrets();
    const deleteTenant = (tenantId: string): string[] => {
      const ids = [...this.trackingIds.values()].filter((t) => t.tenantId === tenantId).map((t) => t.id);
      for (const id of ids) this.trackingIds.delete(id);
      for (const [hash, k] of this.apiKeys) if (k.tenantId === tenantId) this.apiKeys.delete(hash);
      for (const key of this.ingest.keys()) if (ids.includes(key.slice(0, key.lastIndexOf('|')))) this.ingest.delete(key);
      secrets.forget(tenantId);
      this.tenants.delete(tenantId);
      return ids;
    };
    const { forget: _forget, ...embedSecrets } = secrets;
    Object.assign(this, createMemoryReplayJobs(), createMemoryScaling(), createMemoryAdmin(deleteTenant), embedSecrets);
  }

  async createTenant(t: Omit<Tenant, 'createdAt'>): Promise<Tenant> {
    const rec = { ...t, createdAt: 0 };
    this.tenants.set(t.id, rec);
    return rec;
  }
  async getTenant(id: string) { return this.tenants.get(id); }
  async listTenants() { return [...this.tenants.values()]; }
  async updateTenant(id: string, patch: Partial<Omit<Tenant, 'id' | 'createdAt'>>): Promise<Tenant> {
    const rec = { ...this.tenants.get(id)!, ...patch };
    this.tenants.set(id, rec);
    return rec;
  }

  async createTrackingId(t: Omit<TrackingIdRecord, 'createdAt'>): Promise<TrackingIdRecord> {
    const rec = { ...t, createdAt: 0 };
    this.trackingIds.set(t.id, rec);
    return rec;
  }
  async getTrackingId(id: string) {
    this.siteLookups++;
    return this.trackingIds.get(id);
  }
  async listTrackingIds(tenantId?: string) { return [...this.trackingIds.values()].filter((t) => !tenantId || t.tenantId === tenantId); }
  async updateTrackingId(id: string, patch: Partial<Omit<TrackingIdRecord, 'id' | 'tenantId' | 'createdAt'>>): Promise<TrackingIdRecord> {
    const rec = { ...this.trackingIds.get(id)!, ...patch };
    this.trackingIds.set(id, rec);
    return rec;
  }

  async createApiKey(k: Omit<ApiKeyRecord, 'createdAt'>): Promise<ApiKeyRecord> {
    const rec = { ...k, createdAt: 0 };
    this.apiKeys.set(k.keyHash, rec);
    return rec;
  }
  async findApiKeyByHash(keyHash: string) {
    this.keyLookups++;
    return this.apiKeys.get(keyHash);
  }
  async listApiKeys(tenantId?: string) { return [...this.apiKeys.values()].filter((k) => !tenantId || k.tenantId === tenantId); }

  async addIngestCounts(trackingId: string, day: number, counts: Record<string, number>): Promise<void> {
    const k = `${trackingId}|${day}`;
    const cur = this.ingest.get(k) ?? {};
    for (const [n, v] of Object.entries(counts)) cur[n] = (cur[n] ?? 0) + v;
    this.ingest.set(k, cur);
  }
  async ingestCounts(): Promise<Record<string, number>> { return {}; }

  private readonly salts = new Map<number, string>();
  async getOrCreateDailySalt(day: number, candidate: string): Promise<string> {
    if (!this.salts.has(day)) this.salts.set(day, candidate);
    return this.salts.get(day)!;
  }
  async deleteDailySaltsBefore(day: number): Promise<number> {
    const old = [...this.salts.keys()].filter((d) => d < day);
    for (const d of old) this.salts.delete(d);
    return old.length;
  }
  async listDailySaltDays(): Promise<number[]> { return [...this.salts.keys()].sort((a, b) => a - b); }
  async close(): Promise<void> {}
}

/**
 * Two tenants with one site each, a tenant key per tenant and an admin key:
 * acme/site-a (key 'key-acme'), globex/site-b (key 'key-globex'), admin key 'key-admin'.
 */
export async function seedRegistry(registry: Registry = new MemoryRegistry()) {
  for (const [tenant, site] of [['acme', 'site-a'], ['globex', 'site-b']] as const) {
    await registry.createTenant({ id: tenant, name: tenant, status: 'active', rateLimitPerSec: 100, monthlyEventCap: null, retentionDays: 400 });
    await registry.createTrackingId({ id: site, tenantId: tenant, name: site, allowedOrigins: ['*'], serverKey: `sk-${site}`, status: 'active', respectDnt: false });
    await registry.createApiKey({ id: `k-${tenant}`, tenantId: tenant, name: tenant, keyHash: sha256Hex(`key-${tenant}`), scope: 'tenant' });
  }
  await registry.createApiKey({ id: 'k-admin', tenantId: 'acme', name: 'admin', keyHash: sha256Hex('key-admin'), scope: 'admin' });
  return registry;
}

/** A settable clock. */
export function fakeClock(start: number): { now: () => number; set(t: number): void; advance(ms: number): void } {
  let t = start;
  return { now: () => t, set: (v) => { t = v; }, advance: (ms) => { t += ms; } };
}
