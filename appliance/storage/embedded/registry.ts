/**
 * The registry on SQLite: tenants, tracking IDs, API keys and daily ingest counters here; the
 * other parts spread in, one module each (replay-jobs.ts, scaling.ts, embed-secrets.ts,
 * admin-registry.ts, salts.ts).
 */
import type { ApiKeyRecord, Registry, ReplayJobRegistry, ScalingRegistry, Tenant, TrackingIdRecord } from '../../../core/ports/index.ts';
import type { SqliteDatabase } from './database.ts';
import { definedOnly, rethrowDuplicate } from './registry-writes.ts';
import { createEmbeddedReplayJobs } from './replay-jobs.ts';
import { createEmbeddedScaling } from './scaling.ts';
import { createEmbeddedEmbedSecrets } from './embed-secrets.ts';
import { createEmbeddedAdminRegistry } from './admin-registry.ts';
import { createEmbeddedSalts } from './salts.ts';

interface TenantRow {
  id: string;
  name: string;
  status: Tenant['status'];
  rate_limit_per_sec: number;
  monthly_event_cap: number | null;
  retention_days: number;
  created_at: number;
}
interface TrackingIdRow {
  id: string;
  tenant_id: string;
  name: string;
  allowed_origins: string;
  server_key: string;
  status: TrackingIdRecord['status'];
  respect_dnt: number;
  created_at: number;
}
interface ApiKeyRow {
  id: string;
  tenant_id: string;
  name: string;
  key_hash: string;
  scope: ApiKeyRecord['scope'];
  created_at: number;
}

export function createEmbeddedRegistry(db: SqliteDatabase, now: () => number = Date.now): Registry & ReplayJobRegistry & ScalingRegistry {
  const insertTenant = db.prepare(
    `INSERT INTO tenants (id, name, status, rate_limit_per_sec, monthly_event_cap, retention_days, created_at)
     VALUES (@id, @name, @status, @rate_limit_per_sec, @monthly_event_cap, @retention_days, @created_at)`,
  );
  const selectTenant = db.prepare<[string], TenantRow>('SELECT * FROM tenants WHERE id = ?');
  const selectTenants = db.prepare<[], TenantRow>('SELECT * FROM tenants ORDER BY created_at, id');
  const replaceTenant = db.prepare(
    `UPDATE tenants SET name = @name, status = @status, rate_limit_per_sec = @rate_limit_per_sec,
       monthly_event_cap = @monthly_event_cap, retention_days = @retention_days WHERE id = @id`,
  );

  const insertTrackingId = db.prepare(
    `INSERT INTO tracking_ids (id, tenant_id, name, allowed_origins, server_key, status, respect_dnt, created_at)
     VALUES (@id, @tenant_id, @name, @allowed_origins, @server_key, @status, @respect_dnt, @created_at)`,
  );
  const selectTrackingId = db.prepare<[string], TrackingIdRow>('SELECT * FROM tracking_ids WHERE id = ?');
  const selectTrackingIds = db.prepare<[], TrackingIdRow>('SELECT * FROM tracking_ids ORDER BY created_at, id');
  const selectTrackingIdsOf = db.prepare<[string], TrackingIdRow>('SELECT * FROM tracking_ids WHERE tenant_id = ? ORDER BY created_at, id');
  const replaceTrackingId = db.prepare(
    `UPDATE tracking_ids SET name = @name, allowed_origins = @allowed_origins, server_key = @server_key,
       status = @status, respect_dnt = @respect_dnt WHERE id = @id`,
  );

  const insertApiKey = db.prepare(
    `INSERT INTO api_keys (id, tenant_id, name, key_hash, scope, created_at)
     VALUES (@id, @tenant_id, @name, @key_hash, @scope, @created_at)`,
  );
  const selectApiKeyById = db.prepare<[string], ApiKeyRow>('SELECT * FROM api_keys WHERE id = ?');
  const selectApiKeyByHash = db.prepare<[string], ApiKeyRow>('SELECT * FROM api_keys WHERE key_hash = ?');
  const selectApiKeys = db.prepare<[], ApiKeyRow>('SELECT * FROM api_keys ORDER BY created_at, id');
  const selectApiKeysOf = db.prepare<[string], ApiKeyRow>('SELECT * FROM api_keys WHERE tenant_id = ? ORDER BY created_at, id');

  const addCount = db.prepare(
    `INSERT INTO ingest_counts (tracking_id, day, counter, value) VALUES (?, ?, ?, ?)
     ON CONFLICT (tracking_id, day, counter) DO UPDATE SET value = value + excluded.value`,
  );
  const sumCounts = db.prepare<[string, number, number], { counter: string; total: number }>(
    'SELECT counter, SUM(value) AS total FROM ingest_counts WHERE tracking_id = ? AND day >= ? AND day < ? GROUP BY counter',
  );

  // Read-modify-write in one IMMEDIATE transaction so a concurrent update from another process is not lost.
  const updateTenantTx = db.transaction((id: string, patch: Partial<Omit<Tenant, 'id' | 'createdAt'>>) => {
    const row = selectTenant.get(id);
    if (!row) throw new Error(`Unknown tenant '${id}': nothing was updated. List tenants to find its ID.`);
    const next: Tenant = { ...tenant(row), ...definedOnly(patch), id: row.id, createdAt: row.created_at };
    replaceTenant.run(tenantColumns(next));
    return next;
  });
  const updateTrackingIdTx = db.transaction((id: string, patch: Partial<Omit<TrackingIdRecord, 'id' | 'tenantId' | 'createdAt'>>) => {
    const row = selectTrackingId.get(id);
    if (!row) throw new Error(`Unknown tracking ID '${id}': nothing was updated. List the tenant's tracking IDs to find it.`);
    const current = trackingId(row);
    const next: TrackingIdRecord = { ...current, ...definedOnly(patch), id: current.id, tenantId: current.tenantId, createdAt: current.createdAt };
    replaceTrackingId.run(trackingIdColumns(next));
    return next;
  });
  const addCountsTx = db.transaction((id: string, day: number, counts: Record<string, number>) => {
    for (const [counter, value] of Object.entries(counts)) {
      if (value !== 0) addCount.run(id, day, counter, value);
    }
  });

  function requireTenant(tenantId: string, what: string): void {
    if (!selectTenant.get(tenantId)) throw new Error(`Unknown tenant '${tenantId}': create the tenant before its ${what}.`);
  }

  return {
    ...createEmbeddedEmbedSecrets(db, now), // dashboards: embed-token secrets
    ...createEmbeddedAdminRegistry(db, now), // control plane: admin users, sessions, audit log
    ...createEmbeddedSalts(db, now), // visitor IDs: the daily salts
    ...createEmbeddedReplayJobs(db),
    ...createEmbeddedScaling(db, now),
    async createTenant(t) {
      const record: Tenant = { ...t, createdAt: now() };
      try {
        insertTenant.run(tenantColumns(record));
      } catch (err) {
        rethrowDuplicate(err, `Tenant '${t.id}'`);
      }
      return record;
    },
    async getTenant(id) {
      const row = selectTenant.get(id);
      return row && tenant(row);
    },
    async listTenants() {
      return selectTenants.all().map(tenant);
    },
    async updateTenant(id, patch) {
      return updateTenantTx.immediate(id, patch);
    },

    async createTrackingId(t) {
      requireTenant(t.tenantId, `tracking ID '${t.id}'`);
      const record: TrackingIdRecord = { ...t, allowedOrigins: [...t.allowedOrigins], createdAt: now() };
      try {
        insertTrackingId.run(trackingIdColumns(record));
      } catch (err) {
        rethrowDuplicate(err, `Tracking ID '${t.id}'`);
      }
      return record;
    },
    async getTrackingId(id) {
      const row = selectTrackingId.get(id);
      return row && trackingId(row);
    },
    async listTrackingIds(tenantId) {
      return (tenantId === undefined ? selectTrackingIds.all() : selectTrackingIdsOf.all(tenantId)).map(trackingId);
    },
    async updateTrackingId(id, patch) {
      return updateTrackingIdTx.immediate(id, patch);
    },

    async createApiKey(k) {
      requireTenant(k.tenantId, `API key '${k.id}'`);
      const record: ApiKeyRecord = { ...k, createdAt: now() };
      try {
        insertApiKey.run(apiKeyColumns(record));
      } catch (err) {
        rethrowDuplicate(err, selectApiKeyById.get(k.id) ? `API key '${k.id}'` : 'An API key with this hash');
      }
      return record;
    },
    async findApiKeyByHash(keyHash) {
      const row = selectApiKeyByHash.get(keyHash);
      return row && apiKey(row);
    },
    async listApiKeys(tenantId) {
      return (tenantId === undefined ? selectApiKeys.all() : selectApiKeysOf.all(tenantId)).map(apiKey);
    },

    async addIngestCounts(id, day, counts) {
      addCountsTx.immediate(id, day, counts);
    },
    async ingestCounts(id, fromDay, toDay) {
      const out: Record<string, number> = {};
      for (const r of sumCounts.all(id, fromDay, toDay)) out[r.counter] = r.total;
      return out;
    },

    async close() {},
  };
}

function tenantColumns(t: Tenant): TenantRow {
  return {
    id: t.id,
    name: t.name,
    status: t.status,
    rate_limit_per_sec: t.rateLimitPerSec,
    monthly_event_cap: t.monthlyEventCap,
    retention_days: t.retentionDays,
    created_at: t.createdAt,
  };
}
function tenant(r: TenantRow): Tenant {
  return {
    id: r.id,
    name: r.name,
    status: r.status,
    rateLimitPerSec: r.rate_limit_per_sec,
    monthlyEventCap: r.monthly_event_cap,
    retentionDays: r.retention_days,
    createdAt: r.created_at,
  };
}
function trackingIdColumns(t: TrackingIdRecord): TrackingIdRow {
  return {
    id: t.id,
    tenant_id: t.tenantId,
    name: t.name,
    allowed_origins: JSON.stringify(t.allowedOrigins),
    server_key: t.serverKey,
    status: t.status,
    respect_dnt: t.respectDnt ? 1 : 0,
    created_at: t.createdAt,
  };
}
function trackingId(r: TrackingIdRow): TrackingIdRecord {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    name: r.name,
    allowedOrigins: JSON.parse(r.allowed_origins) as string[],
    serverKey: r.server_key,
    status: r.status,
    respectDnt: r.respect_dnt === 1,
    createdAt: r.created_at,
  };
}
function apiKeyColumns(k: ApiKeyRecord): ApiKeyRow {
  return { id: k.id, tenant_id: k.tenantId, name: k.name, key_hash: k.keyHash, scope: k.scope, created_at: k.createdAt };
}
function apiKey(r: ApiKeyRow): ApiKeyRecord {
  return { id: r.id, tenantId: r.tenant_id, name: r.name, keyHash: r.key_hash, scope: r.scope, createdAt: r.created_at };
}
