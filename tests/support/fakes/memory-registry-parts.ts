/**
 * Small, complete in-memory implementations of the registry's control-plane parts (replay jobs,
 * scaling, admin users/sessions/audit, embed secrets), for test doubles of the Registry port that
 * only care about tenancy: every part behaves like the real adapters' (tests/contract pins those),
 * so a test that happens to call one gets sensible answers instead of a crash.
 */
import type { AdminRegistry, AdminSession, AdminUser, AuditEntry, EmbedSecret, EmbedSecretRegistry, NodeStatus, ReplayJob, ReplayJobRegistry, ScalingRegistry, WorkerCounts } from '../../../core/ports/index.ts';

const definedOnly = <T extends object>(patch: T): Partial<T> =>
  Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;

export function createMemoryReplayJobs(): ReplayJobRegistry {
  const jobs = new Map<string, ReplayJob>();
  const copy = (j: ReplayJob): ReplayJob => structuredClone(j);
  return {
    async createReplayJob(job) {
      if (jobs.has(job.id)) throw new Error(`A replay job '${job.id}' already exists.`);
      jobs.set(job.id, copy(job));
      return copy(job);
    },
    async getReplayJob(id) {
      const j = jobs.get(id);
      return j && copy(j);
    },
    async listReplayJobs(filter = {}) {
      const all = [...jobs.values()]
        .filter((j) => !filter.status || filter.status.includes(j.status))
        .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      return (filter.limit === undefined ? all : all.slice(Math.max(0, all.length - filter.limit))).map(copy);
    },
    async updateReplayJob(id, patch) {
      const current = jobs.get(id);
      if (!current) throw new Error(`Unknown replay job '${id}': nothing was updated.`);
      const next: ReplayJob = { ...current, ...definedOnly(patch), id: current.id, createdAt: current.createdAt };
      next.cancelRequested = current.cancelRequested || next.cancelRequested;
      jobs.set(id, copy(next));
      return copy(next);
    },
  };
}

export function createMemoryScaling(now: () => number = Date.now): ScalingRegistry {
  const desired = new Map<string, WorkerCounts>();
  const nodes = new Map<string, NodeStatus>();
  return {
    async getDesiredScale(nodeId) {
      const c = desired.get(nodeId);
      return c && { ...c };
    },
    async setDesiredScale(nodeId, counts) {
      desired.set(nodeId, { ...counts });
    },
    async reportNode(status) {
      nodes.set(status.nodeId, structuredClone(status));
    },
    async listNodes(maxAgeMs = 15_000) {
      const since = now() - maxAgeMs;
      return [...nodes.values()].filter((n) => n.lastSeenAt >= since).sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1)).map((n) => structuredClone(n));
    },
  };
}

/** `deleteTenant` removes the tenant's tenancy records from the registry this part belongs to and returns its tracking IDs. */
export function createMemoryAdmin(deleteTenant: (tenantId: string) => string[], now: () => number = Date.now): AdminRegistry {
  const users = new Map<string, AdminUser>();
  const sessions = new Map<string, AdminSession>();
  const audit: AuditEntry[] = [];
  const byName = (username: string) => [...users.values()].find((u) => u.username.toLowerCase() === username.toLowerCase());
  return {
    async createAdminUser(u) {
      if (byName(u.username)) throw new Error(`The username '${u.username}' is taken.`);
      const t = now();
      const rec: AdminUser = { ...u, createdAt: t, updatedAt: t };
      users.set(u.id, rec);
      return { ...rec };
    },
    async getAdminUser(id) {
      const u = users.get(id);
      return u && { ...u };
    },
    async findAdminUserByUsername(username) {
      const u = byName(username);
      return u && { ...u };
    },
    async listAdminUsers() {
      return [...users.values()].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1)).map((u) => ({ ...u }));
    },
    async updateAdminUser(id, patch) {
      const u = users.get(id);
      if (!u) throw new Error(`Unknown admin user '${id}': nothing was updated.`);
      const next: AdminUser = { ...u, ...definedOnly(patch), updatedAt: now() };
      users.set(id, next);
      return { ...next };
    },
    async createAdminSession(session) {
      sessions.set(session.tokenHash, { ...session });
    },
    async getAdminSession(tokenHash) {
      const s = sessions.get(tokenHash);
      return s && { ...s };
    },
    async extendAdminSession(tokenHash, expiresAt) {
      const s = sessions.get(tokenHash);
      if (s) s.expiresAt = Math.max(s.expiresAt, expiresAt);
    },
    async deleteAdminSession(tokenHash) {
      sessions.delete(tokenHash);
    },
    async deleteAdminSessionsOf(userId) {
      const mine = [...sessions.values()].filter((s) => s.userId === userId);
      for (const s of mine) sessions.delete(s.tokenHash);
      return mine.length;
    },
    async appendAudit(entry) {
      audit.push(structuredClone(entry));
    },
    async listAudit(filter = {}) {
      return audit
        .filter((e) => (!filter.actor || e.actor === filter.actor) && (!filter.action || e.action === filter.action) && (!filter.target || e.target === filter.target))
        .filter((e) => !filter.beforeId || e.id < filter.beforeId)
        .sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
        .slice(0, filter.limit ?? 50)
        .map((e) => structuredClone(e));
    },
    async deleteTenantRecords(tenantId) {
      return deleteTenant(tenantId);
    },
  };
}

export function createMemoryEmbedSecrets(now: () => number = Date.now): EmbedSecretRegistry & { forget(tenantId: string): void } {
  const secrets = new Map<string, EmbedSecret>();
  return {
    async getEmbedSecret(tenantId) {
      const s = secrets.get(tenantId);
      return s && { ...s };
    },
    async initEmbedSecret(tenantId, secret) {
      if (!secrets.has(tenantId)) secrets.set(tenantId, { tenantId, secret, generation: 1, rotatedAt: now() });
      return { ...secrets.get(tenantId)! };
    },
    async rotateEmbedSecret(tenantId, secret) {
      const next = { tenantId, secret, generation: (secrets.get(tenantId)?.generation ?? 0) + 1, rotatedAt: now() };
      secrets.set(tenantId, next);
      return { ...next };
    },
    forget(tenantId) {
      secrets.delete(tenantId);
    },
  };
}
