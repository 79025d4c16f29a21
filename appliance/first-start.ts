/**
 * First start: an empty registry gets a first tenant, tracking ID and admin API key, so that a
 * newcomer can send events and read stats right away. The secrets go to credentials.json
 * (mode 600) in the data folder for automation; they are printed once, never logged again.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Registry } from '../core/ports.ts';
import { createApiKey, createTenant, createTrackingId } from './tenancy.ts';

export interface Credentials {
  tenantId: string;
  trackingId: string;
  serverKey: string;
  adminApiKey: string;
  collectorUrl: string;
  statsUrl: string;
  snippet: string;
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
  if ((await registry.listTenants()).length > 0) return { created: false, credentialsPath };

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
  };
  writeFileSync(credentialsPath, JSON.stringify(credentials, null, 2) + '\n', { mode: 0o600 });
  chmodSync(credentialsPath, 0o600);
  return { created: true, credentialsPath, credentials };
}

function isLocal(url: string): boolean {
  return /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/.test(new URL(url).hostname);
}
