/**
 * First start: an empty registry gets a first tenant, tracking ID and admin API key, so that a
 * newcomer can send events and read stats right away, and a first admin user (role owner) for the
 * console. The secrets go to credentials.json (mode 600) in the data folder for automation; they
 * are printed once, never logged again.
 *
 * All or nothing: the data folder is made and a file written in it before any record,
 * so a folder that cannot take the credentials stops the start with nothing created; the
 * credentials replace that file by a rename (never half-written), and if that last step fails the
 * tenant just made is removed again, so the next start makes it anew. A later start that finds the
 * tenant but not its admin key in credentials.json says so (`missing`) and how to get one.
 */
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Registry } from '../../core/ports/index.ts';
import { createTenant } from '../../control/tenants.ts';
import { createTrackingId } from '../../control/tracking-ids.ts';
import { createApiKey } from '../../control/api-keys.ts';
import { createAdminUser } from '../../control/users.ts';
import { generatePassword } from '../../control/passwords.ts';

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
  /** The registry has a first tenant but credentials.json holds no admin key for it (lost, or a new node's data folder). */
  missing?: { tenantId: string };
}

export async function ensureFirstTenant(
  registry: Registry,
  opts: { dataDir: string; publicUrl: string; snippetFor: (trackingId: string, collectorUrl: string, options?: { allowLocalhost?: boolean }) => string },
): Promise<FirstStartResult> {
  const credentialsPath = path.join(opts.dataDir, 'credentials.json');
  const pending = pendingFile(credentialsPath);
  try {
    const tenants = await registry.listTenants();
    if (tenants.length > 0) {
      // A data folder from before admin users existed gets its first admin user now.
      const admin = await ensureFirstAdminUser(registry);
      if (admin) pending.commit({ ...readCredentials(credentialsPath), ...admin });
      if (readCredentials(credentialsPath).adminApiKey) return { created: false, credentialsPath };
      const oldest = [...tenants].sort((a, b) => a.createdAt - b.createdAt)[0];
      return { created: false, credentialsPath, missing: { tenantId: oldest.id } };
    }

    const tenant = await createTenant(registry, { name: 'Default' });
    try {
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
      pending.commit(credentials);
      return { created: true, credentialsPath, credentials };
    } catch (error) {
      // Nobody could read this tenant's keys: remove it, so the next start makes the first tenant
      // again instead of finding one without credentials. (An admin user made here stays; the
      // banner then says how to set its password.)
      await registry.deleteTenantRecords(tenant.id).catch(() => {});
      throw error;
    }
  } finally {
    pending.discard();
  }
}

/** The next start's hint when the first tenant's credentials are not in the data folder. */
export function recoveryHint(first: FirstStartResult, opts: { dataDir: string }): string {
  if (!first.missing) return '';
  const dir = path.resolve(opts.dataDir) === path.resolve('.data') ? '' : ` --data-dir ${opts.dataDir}`;
  return [
    `No admin API key in ${first.credentialsPath}: the first tenant (${first.missing.tenantId}) was made before, and its credentials are not in this data folder.`,
    `  an admin API key:       almanac api-keys create --tenant ${first.missing.tenantId} --admin${dir}`,
    `  the console's password: almanac admin-users reset-password ${FIRST_ADMIN_USERNAME}${dir}`,
  ].join('\n');
}

/** Creates the first admin user (owner, random password) when the registry has none; undefined otherwise. */
export async function ensureFirstAdminUser(registry: Registry): Promise<{ adminUsername: string; adminPassword: string } | undefined> {
  if ((await registry.listAdminUsers()).length > 0) return undefined;
  const password = generatePassword();
  try {
    await createAdminUser(registry, { username: FIRST_ADMIN_USERNAME, role: 'owner', password });
  } catch (error) {
    // Two admin nodes starting at once: the other one created it (and wrote its own credentials).
    if (await registry.findAdminUserByUsername(FIRST_ADMIN_USERNAME)) return undefined;
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

/**
 * A temp file beside `file` (mode 600), made now, so that a data folder that cannot take the
 * credentials fails before any record exists; commit() writes it and renames it over `file`.
 */
function pendingFile(file: string): { commit(credentials: object): void; discard(): void } {
  mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  let fd: number | undefined = openSync(temp, 'w', 0o600);
  return {
    commit(credentials) {
      if (fd === undefined) throw new Error('credentials already written');
      writeSync(fd, JSON.stringify(credentials, null, 2) + '\n');
      fsyncSync(fd);
      closeSync(fd);
      fd = undefined;
      chmodSync(temp, 0o600);
      renameSync(temp, file);
    },
    discard() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
      rmSync(temp, { force: true });
    },
  };
}

function isLocal(url: string): boolean {
  return /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/.test(new URL(url).hostname);
}
