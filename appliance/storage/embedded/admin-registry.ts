/**
 * Admin users, sessions and the audit log on SQLite (tables admin_users, admin_sessions,
 * audit_log, migration 5): the AdminRegistry methods, spread into the embedded Registry.
 */
import type { AdminRegistry, AdminUser, AuditEntry } from '../../../core/ports/index.ts';
import type { SqliteDatabase } from './database.ts';

interface UserRow {
  id: string;
  username: string;
  username_key: string;
  role: AdminUser['role'];
  password_hash: string;
  disabled: number;
  created_at: number;
  updated_at: number;
}
interface AuditRow {
  id: string;
  at: number;
  actor: string;
  actor_name: string;
  action: string;
  target: string | null;
  before: string;
  after: string;
}

const user = (r: UserRow): AdminUser => ({
  id: r.id, username: r.username, role: r.role, passwordHash: r.password_hash, disabled: r.disabled === 1, createdAt: r.created_at, updatedAt: r.updated_at,
});
const audit = (r: AuditRow): AuditEntry => ({
  id: r.id, at: r.at, actor: r.actor, actorName: r.actor_name, action: r.action, target: r.target, before: JSON.parse(r.before), after: JSON.parse(r.after),
});

export function createEmbeddedAdminRegistry(db: SqliteDatabase, now: () => number): AdminRegistry {
  const insertUser = db.prepare(
    `INSERT INTO admin_users (id, username, username_key, role, password_hash, disabled, created_at, updated_at)
     VALUES (@id, @username, @username_key, @role, @password_hash, @disabled, @created_at, @updated_at)`,
  );
  const selectUser = db.prepare<[string], UserRow>('SELECT * FROM admin_users WHERE id = ?');
  const selectUserByKey = db.prepare<[string], UserRow>('SELECT * FROM admin_users WHERE username_key = ?');
  const selectUsers = db.prepare<[], UserRow>('SELECT * FROM admin_users ORDER BY created_at, id');
  const replaceUser = db.prepare('UPDATE admin_users SET role = @role, password_hash = @password_hash, disabled = @disabled, updated_at = @updated_at WHERE id = @id');
  const updateUserTx = db.transaction((id: string, patch: Partial<Pick<AdminUser, 'role' | 'disabled' | 'passwordHash'>>) => {
    const row = selectUser.get(id);
    if (!row) throw new Error(`Unknown admin user '${id}': nothing was updated. List admin users to find its ID.`);
    const next: AdminUser = { ...user(row), ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)), updatedAt: now() };
    replaceUser.run({ id, role: next.role, password_hash: next.passwordHash, disabled: next.disabled ? 1 : 0, updated_at: next.updatedAt });
    return next;
  });

  const insertSession = db.prepare('INSERT INTO admin_sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)');
  const selectSession = db.prepare<[string], { token_hash: string; user_id: string; created_at: number; expires_at: number }>('SELECT * FROM admin_sessions WHERE token_hash = ?');
  const extendSession = db.prepare('UPDATE admin_sessions SET expires_at = MAX(expires_at, ?) WHERE token_hash = ?');
  const deleteSession = db.prepare('DELETE FROM admin_sessions WHERE token_hash = ?');
  const deleteSessionsOf = db.prepare('DELETE FROM admin_sessions WHERE user_id = ?');
  const deleteExpired = db.prepare('DELETE FROM admin_sessions WHERE expires_at <= ?');

  const insertAudit = db.prepare(
    'INSERT INTO audit_log (id, at, actor, actor_name, action, target, before, after) VALUES (@id, @at, @actor, @actor_name, @action, @target, @before, @after)',
  );
  const hasTable = (name: string) => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
  const deleteTenantTx = db.transaction((tenantId: string) => {
    const ids = (db.prepare('SELECT id FROM tracking_ids WHERE tenant_id = ?').all(tenantId) as { id: string }[]).map((r) => r.id);
    const delCounts = db.prepare('DELETE FROM ingest_counts WHERE tracking_id = ?');
    for (const id of ids) delCounts.run(id);
    db.prepare('DELETE FROM tracking_ids WHERE tenant_id = ?').run(tenantId);
    db.prepare('DELETE FROM api_keys WHERE tenant_id = ?').run(tenantId);
    if (hasTable('embed_secrets')) db.prepare('DELETE FROM embed_secrets WHERE tenant_id = ?').run(tenantId);
    db.prepare('DELETE FROM tenants WHERE id = ?').run(tenantId);
    return ids;
  });

  return {
    async createAdminUser(u) {
      const t = now();
      try {
        insertUser.run({ id: u.id, username: u.username, username_key: u.username.toLowerCase(), role: u.role, password_hash: u.passwordHash, disabled: u.disabled ? 1 : 0, created_at: t, updated_at: t });
      } catch (err) {
        if (String((err as { code?: string }).code).startsWith('SQLITE_CONSTRAINT')) throw new Error(`An admin user '${u.username}' (or ID '${u.id}') already exists: choose another name.`, { cause: err });
        throw err;
      }
      return { ...u, createdAt: t, updatedAt: t };
    },
    async getAdminUser(id) {
      const row = selectUser.get(id);
      return row && user(row);
    },
    async findAdminUserByUsername(username) {
      const row = selectUserByKey.get(username.toLowerCase());
      return row && user(row);
    },
    async listAdminUsers() {
      return selectUsers.all().map(user);
    },
    async updateAdminUser(id, patch) {
      return updateUserTx.immediate(id, patch);
    },
    async createAdminSession(s) {
      deleteExpired.run(s.createdAt); // sessions are few: sweeping on sign-in keeps the table small (at the sign-in's own time)
      insertSession.run(s.tokenHash, s.userId, s.createdAt, s.expiresAt);
    },
    async getAdminSession(tokenHash) {
      const r = selectSession.get(tokenHash);
      return r && { tokenHash: r.token_hash, userId: r.user_id, createdAt: r.created_at, expiresAt: r.expires_at };
    },
    async extendAdminSession(tokenHash, expiresAt) {
      extendSession.run(expiresAt, tokenHash);
    },
    async deleteAdminSession(tokenHash) {
      deleteSession.run(tokenHash);
    },
    async deleteAdminSessionsOf(userId) {
      return deleteSessionsOf.run(userId).changes;
    },
    async appendAudit(e) {
      insertAudit.run({ id: e.id, at: e.at, actor: e.actor, actor_name: e.actorName, action: e.action, target: e.target, before: JSON.stringify(e.before ?? null), after: JSON.stringify(e.after ?? null) });
    },
    async listAudit(filter = {}) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (filter.actor !== undefined) { where.push('actor = ?'); params.push(filter.actor); }
      if (filter.action !== undefined) { where.push('action = ?'); params.push(filter.action); }
      if (filter.target !== undefined) { where.push('target = ?'); params.push(filter.target); }
      if (filter.beforeId !== undefined) { where.push('id < ?'); params.push(filter.beforeId); }
      params.push(filter.limit ?? 50);
      const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
      return (db.prepare(sql).all(...params) as AuditRow[]).map(audit);
    },
    async deleteTenantRecords(tenantId) {
      return deleteTenantTx.immediate(tenantId);
    },
  };
}
