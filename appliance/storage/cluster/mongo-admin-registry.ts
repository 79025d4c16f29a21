/**
 * Admin users, sessions and the audit log on MongoDB / FerretDB (collections `admin_users`,
 * `admin_sessions`, `audit_log`): the AdminRegistry methods, spread into the Mongo Registry.
 *
 * FerretDB v1 can lose one of two concurrent updates of one document, so updates `$set` only the
 * fields they change (a role change and a password reset of one user do not undo each other),
 * and the audit log is insert-only.
 */
import type { Db } from 'mongodb';
import type { AdminRegistry, AdminSession, AdminUser, AuditEntry } from '../../../core/ports/index.ts';

type UserDoc = Omit<AdminUser, 'id'> & { _id: string; usernameKey: string };
type SessionDoc = Omit<AdminSession, 'tokenHash'> & { _id: string };
type AuditDoc = Omit<AuditEntry, 'id'> & { _id: string };

const user = ({ _id, usernameKey: _key, ...rest }: UserDoc): AdminUser => ({ id: _id, ...rest });
const auditEntry = ({ _id, ...rest }: AuditDoc): AuditEntry => ({ id: _id, ...rest });

export async function createMongoAdminRegistry(db: Db, now: () => number): Promise<AdminRegistry> {
  const users = db.collection<UserDoc>('admin_users');
  const sessions = db.collection<SessionDoc>('admin_sessions');
  const audit = db.collection<AuditDoc>('audit_log');
  await Promise.all([
    users.createIndex({ usernameKey: 1 }, { name: 'usernameKey', unique: true }),
    sessions.createIndex({ userId: 1 }, { name: 'userId' }),
    audit.createIndex({ target: 1, _id: -1 }, { name: 'target_id' }),
  ]);

  return {
    async createAdminUser(u) {
      const t = now();
      const { id, ...rest } = u;
      try {
        await users.insertOne({ _id: id, ...rest, usernameKey: u.username.toLowerCase(), createdAt: t, updatedAt: t });
      } catch (err) {
        if ((err as { code?: number }).code === 11000) throw new Error(`An admin user '${u.username}' (or ID '${u.id}') already exists: choose another name.`, { cause: err });
        throw err;
      }
      return { ...u, createdAt: t, updatedAt: t };
    },
    async getAdminUser(id) {
      const d = await users.findOne({ _id: id });
      return d ? user(d) : undefined;
    },
    async findAdminUserByUsername(username) {
      const d = await users.findOne({ usernameKey: username.toLowerCase() });
      return d ? user(d) : undefined;
    },
    async listAdminUsers() {
      return (await users.find({}).sort({ createdAt: 1, _id: 1 }).toArray()).map(user);
    },
    async updateAdminUser(id, patch) {
      const set = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
      const res = await users.updateOne({ _id: id }, { $set: { ...set, updatedAt: now() } });
      if (res.matchedCount === 0) throw new Error(`Unknown admin user '${id}': nothing was updated. List admin users to find its ID.`);
      return user((await users.findOne({ _id: id }))!);
    },
    async createAdminSession(s) {
      await sessions.deleteMany({ expiresAt: { $lte: s.createdAt } }); // sessions are few: sweep on sign-in, at its own time
      const { tokenHash, ...rest } = s;
      await sessions.insertOne({ _id: tokenHash, ...rest });
    },
    async getAdminSession(tokenHash) {
      const d = await sessions.findOne({ _id: tokenHash });
      if (!d) return undefined;
      const { _id, ...rest } = d;
      return { tokenHash: _id, ...rest };
    },
    async extendAdminSession(tokenHash, expiresAt) {
      await sessions.updateOne({ _id: tokenHash, expiresAt: { $lt: expiresAt } }, { $set: { expiresAt } });
    },
    async deleteAdminSession(tokenHash) {
      await sessions.deleteOne({ _id: tokenHash });
    },
    async deleteAdminSessionsOf(userId) {
      return (await sessions.deleteMany({ userId })).deletedCount;
    },
    async appendAudit(e) {
      const { id, ...rest } = e;
      await audit.insertOne({ _id: id, ...rest, before: e.before ?? null, after: e.after ?? null });
    },
    async listAudit(filter = {}) {
      const q: Record<string, unknown> = {};
      if (filter.actor !== undefined) q.actor = filter.actor;
      if (filter.action !== undefined) q.action = filter.action;
      if (filter.target !== undefined) q.target = filter.target;
      if (filter.beforeId !== undefined) q._id = { $lt: filter.beforeId };
      return (await audit.find(q).sort({ _id: -1 }).limit(filter.limit ?? 50).toArray()).map(auditEntry);
    },
    async deleteTenantRecords(tenantId) {
      // No multi-document transactions on FerretDB v1: dependants first, the tenant last, so a
      // deletion cut short can be run again and finishes the job.
      const ids = (await db.collection<{ _id: string; tenantId: string }>('tracking_ids').find({ tenantId }, { projection: { _id: 1 } }).toArray()).map((d) => d._id);
      if (ids.length) await db.collection('ingest_counts').deleteMany({ trackingId: { $in: ids } });
      await db.collection('api_keys').deleteMany({ tenantId });
      await db.collection('embed_secrets').deleteMany({ _id: tenantId } as never);
      await db.collection('tracking_ids').deleteMany({ tenantId });
      await db.collection('tenants').deleteOne({ _id: tenantId } as never);
      return ids;
    },
  };
}
