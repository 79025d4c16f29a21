/**
 * First start: an empty registry gets a first tenant, tracking ID and admin API key, so that a
 * newcomer can send events and read stats right away, and a first admin user (role owner) for the
 * console. The secrets go to credentials.json (mode 600) in the data folder for automation; they
 * are printed once, never logged again.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Registry } from '../core/ports.ts';
import { createApiKey, createTenant, createTrackingId } from './tenancy.ts';
import { createAdminUser } from './admin-api/users.ts';
import { generatePassword } from './admin-api/passwords.ts';

/** The first admin user's name; sign in to the console (or auth.signIn) with it. */
export const FIRST_ADMIN_USERNAME = 'admin';

export interface Credentials {
  tenantId: string;
  trackingId: string;
  serverKey: string;
  adminApiKey: string;
  collectorUrl: string;
  statsUrl: string;
  snippet: string;
  /** The first admin user (role owner) and its password, for the console and the admin API. */
  adminUsername?: string;
  adminPassword?: string;
}

export interface FirstStartResult {
  created: boolean;
  credentialsPath: string;
  credentials?: Credentials;
}

export async function ensureFirstTenant(
  registry: Registry,
  opts: { dataDir: string; publicUrl: string; snippetFor: (trackingId: string, collectorUrl: string, options?: { allowLocalhost?: boolean }) => string },
): Promise<FirstStartResult> {
  const credentialsPath = path.join(opts.dataDir, 'credentials.json');
  if ((await registry.listTenants()).length > 0) {
    // A data folder from before admin users existed gets its first admin user now.
    const admin = await ensureFirstAdminUser(registry);
    if (admin) writeCredentials(credentialsPath, { ...readCredentials(credentialsPath), ...admin });
    return { created: false, credentialsPath };
  }

  const tenant = await createTenant(registry, { name: 'Default' });
  // Any origin may send for the first site, so the snippet works wherever it is pasted first;
  // the README says how to restrict it.
  const site = await createTrackingId(registry, { tenantId: tenant.id, name: 'My website', allowedOrigins: ['*'] });
  const { key } = await createApiKey(registry, { tenantId: tenant.id, name: 'first admin key', scope: 'admin' });
  const credentials: Credentials = {
    tenantId: tenant.id,
    trackingId: site.id,
    serverKey: site.serverKey,
    adminApiKey: key,
    collectorUrl: opts.publicUrl,
    statsUrl: `${opts.publicUrl}/api/v1/stats`,
    // The tracker ignores pages on localhost unless told otherwise; an appliance that itself runs on
    // localhost is being tried out locally, so its first snippet tracks local pages too.
    snippet: opts.snippetFor(site.id, opts.publicUrl, { allowLocalhost: isLocal(opts.publicUrl) }),
    ...(await ensureFirstAdminUser(registry)),
  };
  writeCredentials(credentialsPath, credentials);
  return { created: true, credentialsPath, credentials };
}

/** Creates the first admin user (owner, random password) when the registry has none; undefined otherwise. */
export async function ensureFirstAdminUser(registry: Registry): Promise<{ adminUsername: string; adminPassword: string } | undefined> {
  if (!registry.listAdminUsers || (await registry.listAdminUsers()).length > 0) return undefined;
  const password = generatePassword();
  try {
    await createAdminUser(registry, { username: FIRST_ADMIN_USERNAME, role: 'owner', password });
  } catch (error) {
    // Two admin nodes starting at once: the other one created it (and wrote its own credentials).
    if (await registry.findAdminUserByUsername?.(FIRST_ADMIN_USERNAME)) return undefined;
    throw error;
  }
  return { adminUsername: FIRST_ADMIN_USERNAME, adminPassword: password };
}

function readCredentials(file: string): Record<string, unknown> {
  try {
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  } catch {
    return {}; // unreadable: rewritten with what is known now
  }
}

function writeCredentials(file: string, credentials: object): void {
  writeFileSync(file, JSON.stringify(credentials, null, 2) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
}

function isLocal(url: string): boolean {
  return /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/.test(new URL(url).hostname);
}
