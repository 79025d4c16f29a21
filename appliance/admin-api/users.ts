/** Creating admin users, one way for the API, the first start and the CLI. */
import { randomBytes } from 'node:crypto';
import type { AdminRole, AdminUser, Registry } from '../../core/ports/index.ts';
import { adminError } from './errors.ts';
import { hashPassword, MIN_PASSWORD_LENGTH } from './passwords.ts';

export const newAdminUserId = (): string => `usr_${randomBytes(6).toString('hex')}`;

export async function createAdminUser(registry: Registry, input: { username: string; role: AdminRole; password: string }): Promise<AdminUser> {
  const admin = registry;
  const username = input.username.trim();
  if (!/^[A-Za-z0-9._@-]{2,64}$/.test(username)) throw adminError('invalid_request', `"${input.username}" is not a valid username: 2 to 64 letters, digits or . _ @ -`);
  if (input.password.length < MIN_PASSWORD_LENGTH) throw adminError('invalid_request', `The password needs at least ${MIN_PASSWORD_LENGTH} characters.`);
  if (await admin.findAdminUserByUsername(username)) throw adminError('conflict', `The username "${username}" is taken: choose another.`);
  return admin.createAdminUser({ id: newAdminUserId(), username, role: input.role, passwordHash: await hashPassword(input.password), disabled: false });
}
