/** Creating admin users, one way for the API, the first start and the CLI. */
import { randomBytes } from 'node:crypto';
import type { AdminRole, AdminUser, Registry } from '../core/ports/index.ts';
import { ControlError } from './errors.ts';
import { hashPassword, MIN_PASSWORD_LENGTH } from './passwords.ts';

export const newAdminUserId = (): string => `usr_${randomBytes(6).toString('hex')}`;

export async function createAdminUser(registry: Registry, input: { username: string; role: AdminRole; password: string }): Promise<AdminUser> {
  const admin = registry;
  const username = input.username.trim();
  if (!/^[A-Za-z0-9._@-]{2,64}$/.test(username)) throw new ControlError('invalid_request', `"${input.username}" is not a valid username: 2 to 64 letters, digits or . _ @ -`);
  if (input.password.length < MIN_PASSWORD_LENGTH) throw new ControlError('invalid_request', `The password needs at least ${MIN_PASSWORD_LENGTH} characters.`);
  if (await admin.findAdminUserByUsername(username)) throw new ControlError('conflict', `The username "${username}" is taken: choose another.`);
  return admin.createAdminUser({ id: newAdminUserId(), username, role: input.role, passwordHash: await hashPassword(input.password), disabled: false });
}

/** A user as the doors show it: never the password hash. */
export function publicUser(u: AdminUser) {
  return { id: u.id, username: u.username, role: u.role, disabled: u.disabled, createdAt: u.createdAt, updatedAt: u.updatedAt };
}

export async function requireUser(registry: Registry, userId: string): Promise<AdminUser> {
  const user = await registry.getAdminUser(userId);
  if (!user) throw new ControlError('not_found', `No admin user "${userId}". List them with auth.users.list (CLI: almanac admin-users list).`);
  return user;
}

export async function requireUserByName(registry: Registry, username: string): Promise<AdminUser> {
  const user = await registry.findAdminUserByUsername(username);
  if (!user) throw new ControlError('not_found', `No admin user "${username}". List them with: almanac admin-users list`);
  return user;
}

async function requireAnotherOwner(registry: Registry, userId: string): Promise<void> {
  const owners = (await registry.listAdminUsers()).filter((u) => u.role === 'owner' && !u.disabled && u.id !== userId);
  if (owners.length === 0) throw new ControlError('last_owner', 'This is the last active owner: make another user owner first.');
}

export async function setUserRole(registry: Registry, userId: string, role: AdminRole): Promise<{ before: AdminUser; after: AdminUser }> {
  const before = await requireUser(registry, userId);
  if (before.role === 'owner' && role !== 'owner') await requireAnotherOwner(registry, before.id);
  return { before, after: await registry.updateAdminUser(userId, { role }) };
}

/** Disabling also ends the user's sessions. */
export async function setUserDisabled(registry: Registry, userId: string, disabled: boolean): Promise<{ before: AdminUser; after: AdminUser }> {
  const admin = registry;
  const before = await requireUser(registry, userId);
  if (disabled && before.role === 'owner') await requireAnotherOwner(registry, before.id);
  const after = await admin.updateAdminUser(userId, { disabled });
  if (disabled) await admin.deleteAdminSessionsOf(after.id);
  return { before, after };
}

/** Sets a new password and ends the user's sessions. */
export async function resetUserPassword(registry: Registry, userId: string, password: string): Promise<AdminUser> {
  const admin = registry;
  const user = await requireUser(registry, userId);
  await admin.updateAdminUser(userId, { passwordHash: await hashPassword(password) });
  await admin.deleteAdminSessionsOf(userId);
  return user;
}
