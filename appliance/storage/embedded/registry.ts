/**
 * The registry on SQLite: tenants, tracking IDs, API keys, daily ingest counters and daily salts.
 */
import type { ApiKeyRecord, NodeStatus, Registry, ReplayJob, ReplayJobRegistry, ReplayStatus, ScalingRegistry, Tenant, TrackingIdRecord, WorkerCounts } from '../../../core/ports.ts';
import { assertDesiredScale } from '../../../control/desired-scale.ts';
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from './database.ts';
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

  const insertReplayJob = db.prepare('INSERT INTO replay_jobs (id, status, created_at, doc) VALUES (?, ?, ?, ?)');
  const selectReplayJob = db.prepare<[string], { doc: string }>('SELECT doc FROM replay_jobs WHERE id = ?');
  const selectReplayJobs = db.prepare<[], { doc: string }>('SELECT doc FROM replay_jobs ORDER BY created_at, id');
  const replaceReplayJob = db.prepare('UPDATE replay_jobs SET status = ?, doc = ? WHERE id = ?');
  const byStatus = new Map<number, Statement<ReplayStatus[], { doc: string }>>();
  function replayJobsWithStatus(n: number): Statement<ReplayStatus[], { doc: string }> {
    let s = byStatus.get(n);
    if (!s) {
      s = db.prepare<ReplayStatus[], { doc: string }>(`SELECT doc FROM replay_jobs WHERE status IN (${new Array(n).fill('?').join(',')}) ORDER BY created_at, id`);
      byStatus.set(n, s);
    }
    return s;
  }
  // Read-modify-write in one IMMEDIATE transaction: a runner's progress update and an admin's
  // cancel request (other process) do not lose each other's fields.
  const updateReplayJobTx = db.transaction((id: string, patch: Partial<Omit<ReplayJob, 'id' | 'createdAt'>>) => {
    const row = selectReplayJob.get(id);
    if (!row) throw new Error(`Unknown replay job '${id}'. List replay jobs to find its ID.`);
    const current = JSON.parse(row.doc) as ReplayJob;
    const next: ReplayJob = { ...current, ...definedOnly(patch), id: current.id, createdAt: current.createdAt };
    next.cancelRequested = current.cancelRequested || next.cancelRequested;
    replaceReplayJob.run(next.status, JSON.stringify(next), id);
    return next;
  });

  // ---------------------------------------------------------------- scaling
  const selectDesired = db.prepare<[string], { counts: string }>('SELECT counts FROM desired_scale WHERE node_id = ?');
  const upsertDesired = db.prepare(
    `INSERT INTO desired_scale (node_id, counts, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (node_id) DO UPDATE SET counts = excluded.counts, updated_at = excluded.updated_at`,
  );
  const upsertNode = db.prepare(
    `INSERT INTO nodes (node_id, last_seen_at, doc) VALUES (?, ?, ?)
     ON CONFLICT (node_id) DO UPDATE SET last_seen_at = excluded.last_seen_at, doc = excluded.doc`,
  );
  const selectNodes = db.prepare<[number], { doc: string }>('SELECT doc FROM nodes WHERE last_seen_at >= ? ORDER BY node_id');

  function requireTenant(tenantId: string, what: string): void {
    if (!selectTenant.get(tenantId)) throw new Error(`Unknown tenant '${tenantId}': create the tenant before its ${what}.`);
  }

  function rethrowDuplicate(err: unknown, what: string): never {
    if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || (err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
      throw new Error(`${what} already exists. Choose another ID, or update the existing one.`, { cause: err });
    }
    throw err;
  }

  return {
    ...createEmbeddedEmbedSecrets(db, now), // dashboards (issue 6): embed-token secrets
    ...createEmbeddedAdminRegistry(db, now), // control plane (issue 5): admin users, sessions, audit log
    ...createEmbeddedSalts(db, now), // visitor IDs (issue 11): the daily salts
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

    async createReplayJob(job) {
      try {
        insertReplayJob.run(job.id, job.status, job.createdAt, JSON.stringify(job));
      } catch (err) {
        rethrowDuplicate(err, `Replay job '${job.id}'`);
      }
      return structuredClone(job);
    },
    async getReplayJob(id) {
      const row = selectReplayJob.get(id);
      return row && (JSON.parse(row.doc) as ReplayJob);
    },
    async listReplayJobs(filter = {}) {
      // The runners poll for active jobs every second: filter in SQL (index on status).
      if (filter.status?.length === 0) return [];
      const rows = filter.status ? replayJobsWithStatus(filter.status.length).all(...filter.status) : selectReplayJobs.all();
      const jobs = rows.map((r) => JSON.parse(r.doc) as ReplayJob);
      return filter.limit !== undefined ? jobs.slice(Math.max(0, jobs.length - filter.limit)) : jobs;
    },
    async updateReplayJob(id, patch) {
      return updateReplayJobTx.immediate(id, patch);
    },

    async getDesiredScale(nodeId) {
      const row = selectDesired.get(nodeId);
      return row && (JSON.parse(row.counts) as WorkerCounts);
    },
    async setDesiredScale(nodeId, counts) {
      // One SQLite file: its event log has one consumer per group, so only 1 of each role.
      assertDesiredScale(counts, 'embedded');
      const { collector, archiver, aggregator, query } = counts;
      upsertDesired.run(nodeId, JSON.stringify({ collector, archiver, aggregator, query }), now());
    },
    async reportNode(status: NodeStatus) {
      upsertNode.run(status.nodeId, status.lastSeenAt, JSON.stringify(status));
    },
    async listNodes(maxAgeMs = 15_000) {
      return selectNodes.all(now() - maxAgeMs).map((r) => JSON.parse(r.doc) as NodeStatus);
    },

    async close() {},
  };
}

/** A patch with `{ name: undefined }` leaves the name alone rather than erasing it. */
function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
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
