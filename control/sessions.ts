/**
 * Who is calling: a session token (opaque, 32 random bytes, stored as its sha256, sliding expiry)
 * or an admin-scope API key (the `owner` service identity, for automation). Tenant-scope keys
 * never reach the admin API.
 */
import { randomBytes } from 'node:crypto';
import type { AdminRole, AdminUser, Registry } from '../core/ports/index.ts';
import { hashApiKey } from '../core/api-key.ts';
import { adminKeyOf } from './api-keys.ts';
import { ControlError } from './errors.ts';
import { hashPassword, verifyPassword } from './passwords.ts';

export const SESSION_TTL_MS = 12 * 3_600_000; // 12 h, moved forward on use
const EXTEND_AFTER_MS = 60_000; // write the new expiry at most once a minute per session

const SESSION_PREFIX = 'as_';

export interface Identity {
  /** `user:<id>` or `apikey:<id>`: what the audit log records. */
  actor: string;
  name: string;
  role: AdminRole;
  kind: 'user' | 'apikey';
  userId: string | null;
  /** The session token hash, for sign-out. */
  sessionHash: string | null;
}

/** The identity behind a Bearer token of the admin API: a session of an admin user, or an admin API key. */
export async function resolveIdentity(registry: Registry, token: string | null, now: number): Promise<Identity> {
  if (!token) throw new ControlError('not_signed_in', 'Sign in first (auth.signIn), then send the token as "Authorization: Bearer <token>".');
  if (!token.startsWith(SESSION_PREFIX)) {
    const key = await adminKeyOf(registry, token, 'A tenant API key reads its own stats only; the admin API needs an admin user or an admin API key.');
    if (!key) throw new ControlError('not_signed_in', 'This token is neither a session nor an API key: sign in again.');
    return { actor: `apikey:${key.id}`, name: key.name, role: 'owner', kind: 'apikey', userId: null, sessionHash: null };
  }
  const admin = registry;
  const tokenHash = hashApiKey(token);
  const session = await admin.getAdminSession(tokenHash);
  if (!session) throw new ControlError('not_signed_in', 'This session does not exist (signed out?): sign in again.');
  if (session.expiresAt <= now) {
    await admin.deleteAdminSession(tokenHash);
    throw new ControlError('session_expired', 'Your session expired: sign in again.');
  }
  const user = await admin.getAdminUser(session.userId);
  if (!user || user.disabled) {
    await admin.deleteAdminSession(tokenHash);
    throw new ControlError('not_signed_in', 'This admin user was disabled: ask an owner.');
  }
  if (session.expiresAt - now < SESSION_TTL_MS - EXTEND_AFTER_MS) await admin.extendAdminSession(tokenHash, now + SESSION_TTL_MS);
  return { actor: `user:${user.id}`, name: user.username, role: user.role, kind: 'user', userId: user.id, sessionHash: tokenHash };
}

// Verifying against a real hash for unknown users keeps the answer time the same, so response
// times do not tell which usernames exist.
let dummyHash: Promise<string> | undefined;

export async function signIn(registry: Registry, username: string, password: string, now: number): Promise<{ token: string; expiresAt: number; user: AdminUser }> {
  const admin = registry;
  const user = await admin.findAdminUserByUsername(username);
  const ok = await verifyPassword(password, user?.passwordHash ?? (await (dummyHash ??= hashPassword('not a password'))));
  if (!user || !ok || user.disabled) throw new ControlError('bad_credentials', 'Wrong username or password (or the user is disabled).');
  const token = SESSION_PREFIX + randomBytes(32).toString('base64url');
  const expiresAt = now + SESSION_TTL_MS;
  await admin.createAdminSession({ tokenHash: hashApiKey(token), userId: user.id, createdAt: now, expiresAt });
  return { token, expiresAt, user };
}
