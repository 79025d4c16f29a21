import type { AdminSession, AdminUser, AuditEntry, AuditFilter } from './records/admin.ts';

/** Admin users, their sessions and the audit log (control plane). */
export interface AdminRegistry {
  /** Rejects when the username (case-insensitive) is taken. */
  createAdminUser(user: Omit<AdminUser, 'createdAt' | 'updatedAt'>): Promise<AdminUser>;
  getAdminUser(id: string): Promise<AdminUser | undefined>;
  findAdminUserByUsername(username: string): Promise<AdminUser | undefined>;
  listAdminUsers(): Promise<AdminUser[]>;
  updateAdminUser(id: string, patch: Partial<Pick<AdminUser, 'role' | 'disabled' | 'passwordHash'>>): Promise<AdminUser>;
  createAdminSession(session: AdminSession): Promise<void>;
  getAdminSession(tokenHash: string): Promise<AdminSession | undefined>;
  /** Moves the expiry of a session (sliding expiry); no-op for an unknown one. */
  extendAdminSession(tokenHash: string, expiresAt: number): Promise<void>;
  deleteAdminSession(tokenHash: string): Promise<void>;
  /** Signs a user out everywhere (disabled users); returns how many sessions ended. */
  deleteAdminSessionsOf(userId: string): Promise<number>;
  appendAudit(entry: AuditEntry): Promise<void>;
  /** Newest first. */
  listAudit(filter?: AuditFilter): Promise<AuditEntry[]>;
  /** Deletes a tenant with its tracking IDs, API keys and ingest counters; returns the tracking IDs it had. */
  deleteTenantRecords(tenantId: string): Promise<string[]>;
}
