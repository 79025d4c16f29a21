/**
 * The registry in memory, with knobs to make it fail and counters of its calls. Tenants and
 * tracking IDs sit in public maps, so a test can change one behind the code's back.
 */
import type { AdminRegistry, ApiKeyRecord, EmbedSecretRegistry, Registry, ReplayJobRegistry, ScalingRegistry, Tenant, TrackingIdRecord } from '../../../core/ports/index.ts';
import { hashApiKey } from '../../../core/api-key.ts';
import { createMemoryAdmin, createMemoryEmbedSecrets, createMemoryReplayJobs, createMemoryScaling } from './memory-registry-parts.ts';

export interface IngestCall {
  trackingId: string;
  day: number;
  counts: Record<string, number>;
}

/** The registry's control-plane parts (replay jobs, scaling, admin, embed secrets), in memory: see the constructor. */
export interface MemoryRegistry extends ReplayJobRegistry, ScalingRegistry, AdminRegistry, EmbedSecretRegistry {}

export class MemoryRegistry implements Registry {
  readonly tenants: Map<string, Tenant>;
  readonly trackingIds: Map<string, TrackingIdRecord>;
  private readonly apiKeys = new Map<string, ApiKeyRecord>();
  /** Daily salts by day (ms), as the registry keeps them. */
  readonly salts = new Map<number, string>();
  /** Every addIngestCounts call, in order. */
  readonly ingestCalls: IngestCall[] = [];
  /** getTrackingId calls. */
  siteLookups = 0;
  /** findApiKeyByHash calls. */
  keyLookups = 0;
  /** getOrCreateDailySalt calls. */
  saltCalls = 0;
  /** Make tenant and tracking ID lookups fail (registry down). */
  failLookups = false;
  failIngestCounts = false;
  failSalts = false;

  constructor(tenants: readonly Tenant[] = [], trackingIds: readonly TrackingIdRecord[] = []) {
    this.tenants = new Map(tenants.map((t) => [t.id, t]));
    this.trackingIds = new Map(trackingIds.map((t) => [t.id, t]));
    const secrets = createMemoryEmbedSecrets();
    const deleteTenant = (tenantId: string): string[] => {
      const ids = [...this.trackingIds.values()].filter((t) => t.tenantId === tenantId).map((t) => t.id);
      for (const id of ids) this.trackingIds.delete(id);
      for (const [hash, k] of this.apiKeys) if (k.tenantId === tenantId) this.apiKeys.delete(hash);
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
  async getTenant(id: string) {
    this.checkLookups();
    return this.tenants.get(id);
  }
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
    this.checkLookups();
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
    if (this.failIngestCounts) throw new Error('registry down');
    this.ingestCalls.push({ trackingId, day, counts: { ...counts } });
  }
  async ingestCounts(): Promise<Record<string, number>> { return {}; }
  /** Sums of all addIngestCounts calls of a tracking ID. */
  countsOf(trackingId: string): Record<string, number> {
    const sum: Record<string, number> = {};
    for (const c of this.ingestCalls) if (c.trackingId === trackingId) for (const [k, n] of Object.entries(c.counts)) sum[k] = (sum[k] ?? 0) + n;
    return sum;
  }

  async getOrCreateDailySalt(day: number, candidate: string): Promise<string> {
    this.saltCalls++;
    if (this.failSalts) throw new Error('registry down');
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

  private checkLookups(): void {
    if (this.failLookups) throw new Error('registry down');
  }
}

/**
 * Two tenants with one site each, a tenant key per tenant and an admin key:
 * acme/site-a (key 'key-acme'), globex/site-b (key 'key-globex'), admin key 'key-admin'.
 */
export async function seedRegistry(registry: Registry = new MemoryRegistry()) {
  for (const [tenant, site] of [['acme', 'site-a'], ['globex', 'site-b']] as const) {
    await registry.createTenant({ id: tenant, name: tenant, status: 'active', rateLimitPerSec: 100, monthlyEventCap: null, retentionDays: 400 });
    await registry.createTrackingId({ id: site, tenantId: tenant, name: site, allowedOrigins: ['*'], serverKey: `sk-${site}`, status: 'active', respectDnt: false });
    await registry.createApiKey({ id: `k-${tenant}`, tenantId: tenant, name: tenant, keyHash: hashApiKey(`key-${tenant}`), scope: 'tenant' });
  }
  await registry.createApiKey({ id: 'k-admin', tenantId: 'acme', name: 'admin', keyHash: hashApiKey('key-admin'), scope: 'admin' });
  return registry;
}
