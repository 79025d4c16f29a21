/** The admin records of the registry (control plane): users, sessions, audit entries. */

export type AdminRole = 'owner' | 'admin' | 'viewer';

export interface AdminUser {
  id: string;
  /** Sign-in name, unique, compared lower-cased. */
  username: string;
  role: AdminRole;
  /** `scrypt$N$r$p$salt$hash` (base64url parts): see control/passwords.ts. */
  passwordHash: string;
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface AdminSession {
  /** sha256 of the opaque session token; the token itself is never stored. */
  tokenHash: string;
  userId: string;
  createdAt: number;
  /** Sliding: each use moves it forward. */
  expiresAt: number;
}

export interface AuditEntry {
  /** Sorts by time: the newest entry has the greatest ID. */
  id: string;
  at: number;
  /** Who: `user:<id>` or `apikey:<id>`, with a readable name beside it. */
  actor: string;
  actorName: string;
  /** What, e.g. tenants.suspend. */
  action: string;
  target: string | null;
  before: unknown;
  after: unknown;
}

export interface AuditFilter {
  actor?: string;
  action?: string;
  target?: string;
  /** Paging: only entries with an ID below this one (the last ID of the previous page). */
  beforeId?: string;
  /** Default 50. */
  limit?: number;
}
