/** An admin API over a real embedded storage in a temp folder, called without HTTP (createCaller), with a settable clock. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { TRPCError } from '@trpc/server';
import { openEmbeddedStorage, type EmbeddedStorage } from '../../appliance/storage/embedded/index.ts';
import { ensureFirstAdminUser } from '../../appliance/main/first-start.ts';
import { createTenant } from '../../control/tenants.ts';
import { createApiKey } from '../../control/api-keys.ts';
import type { Registry } from '../../core/ports/index.ts';
import { createAdminCaller } from '../../appliance/trpc/router.ts';
import type { AdminApiDeps } from '../../appliance/trpc/context.ts';
import { ControlError } from '../../control/errors.ts';

export interface AdminApiHarness {
  storage: EmbeddedStorage;
  deps: AdminApiDeps;
  clock: { now: number };
  ownerPassword: string;
  /** A caller acting with this token (session token, API key, or none). */
  as(token: string | null): ReturnType<typeof createAdminCaller>;
  signIn(username: string, password: string): Promise<string>;
  /** A signed-in session of a new user with this role. */
  userWithRole(role: 'owner' | 'admin' | 'viewer'): Promise<{ token: string; id: string; username: string; password: string }>;
  apiKey(scope: 'tenant' | 'admin'): Promise<string>;
  close(): Promise<void>;
}

let counter = 0;

export async function startAdminApiHarness(overrides: Partial<AdminApiDeps> = {}): Promise<AdminApiHarness> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'almanac-admin-api-'));
  const storage = openEmbeddedStorage({ path: path.join(dir, 'almanac.sqlite'), partitions: 4 });
  const clock = { now: Date.UTC(2026, 10, 27, 12) };
  const deps: AdminApiDeps = {
    registry: storage.registry, eventLog: storage.eventLog, archive: storage.archive, rollups: storage.rollups, cache: storage.cache,
    ping: async () => ({ sqlite: true }),
    publicUrl: 'https://almanac.example',
    profile: 'embedded',
    now: () => clock.now,
    ...overrides,
  };
  // With an existing registry passed in, its users stay: sign in with that registry's password.
  const first = (await ensureFirstAdminUser(deps.registry)) ?? { adminUsername: 'admin', adminPassword: '' };
  const as = (token: string | null) => createAdminCaller({ deps, token, now: () => clock.now });
  const signIn = async (username: string, password: string) => (await as(null).auth.signIn({ username, password })).token;
  let ownerToken: string | undefined;
  return {
    storage, deps, clock, ownerPassword: first.adminPassword, as, signIn,
    async userWithRole(role) {
      const username = `${role}${++counter}`;
      ownerToken ??= await signIn(first.adminUsername, first.adminPassword);
      const { user, password } = await as(ownerToken).auth.users.create({ username, role });
      assert.ok(password);
      return { token: await signIn(username, password), id: user.id, username, password };
    },
    apiKey: (scope) => newApiKey(storage.registry, scope),
    async close() {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Asserts the call fails with this appCode (and, when given, this tRPC code); returns the error. */
export async function rejectsWith(call: Promise<unknown>, appCode: string, trpcCode?: TRPCError['code']): Promise<TRPCError> {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof TRPCError, `a TRPCError, got ${String(error)}`);
    const code = error.cause instanceof ControlError ? error.cause.code : undefined;
    assert.equal(code, appCode, `appCode (message: ${error.message})`);
    if (trpcCode) assert.equal(error.code, trpcCode);
    return error;
  }
  assert.fail(`expected a failure with ${appCode}`);
}

async function newApiKey(registry: Registry, scope: 'tenant' | 'admin'): Promise<string> {
  const tenant = (await registry.listTenants())[0] ?? (await createTenant(registry, { name: 'Keys' }));
  return (await createApiKey(registry, { tenantId: tenant.id, name: `${scope} key`, scope })).key;
}
