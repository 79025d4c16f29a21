/**
 * Tenant, tracking ID and API key operations shared by the CLI, the admin routes and the
 * first-start bootstrap, so that each is done one way.
 */
import type { ApiKeyRecord, Registry, Tenant, TrackingIdRecord } from '../core/ports/index.ts';
import { hashApiKey, newApiKey, newApiKeyId, newServerKey, newTenantId, newTrackingId } from './identifiers.ts';

export interface NewTenant {
  name: string;
  rateLimitPerSec?: number;
  monthlyEventCap?: number | null;
  retentionDays?: number;
}

export const TENANT_DEFAULTS = {
  rateLimitPerSec: 1000, // events/s per tracking ID, burst twice that
  retentionDays: 730, // 2 years of raw events in the archive
} as const;

export async function createTenant(registry: Registry, input: NewTenant): Promise<Tenant> {
  const name = input.name.trim();
  if (!name) throw new UsageError('A tenant needs a name: --name "Acme Shop"');
  return registry.createTenant({
    id: newTenantId(),
    name,
    status: 'active',
    rateLimitPerSec: input.rateLimitPerSec ?? TENANT_DEFAULTS.rateLimitPerSec,
    monthlyEventCap: input.monthlyEventCap ?? null,
    retentionDays: input.retentionDays ?? TENANT_DEFAULTS.retentionDays,
  });
}

export interface NewTrackingId {
  tenantId: string;
  name: string;
  allowedOrigins: string[];
  respectDnt?: boolean;
}

export async function createTrackingId(registry: Registry, input: NewTrackingId): Promise<TrackingIdRecord> {
  const tenant = await registry.getTenant(input.tenantId);
  if (!tenant) throw new UsageError(`No tenant "${input.tenantId}". List tenants with: almanac tenants list`);
  const origins = input.allowedOrigins.map(normaliseOrigin);
  if (origins.length === 0) throw new UsageError('A tracking ID needs at least one allowed origin, e.g. --origins https://shop.example (or * for any).');
  return registry.createTrackingId({
    id: newTrackingId(),
    tenantId: tenant.id,
    name: input.name.trim() || 'Website',
    allowedOrigins: origins,
    serverKey: newServerKey(),
    status: 'active',
    respectDnt: input.respectDnt ?? false,
  });
}

/** Returns the record and the key itself, which is shown once and stored only as a hash. */
export async function createApiKey(
  registry: Registry,
  input: { tenantId: string; name: string; scope: ApiKeyRecord['scope'] },
): Promise<{ record: ApiKeyRecord; key: string }> {
  const tenant = await registry.getTenant(input.tenantId);
  if (!tenant) throw new UsageError(`No tenant "${input.tenantId}". List tenants with: almanac tenants list`);
  const key = newApiKey();
  const record = await registry.createApiKey({ id: newApiKeyId(), tenantId: tenant.id, name: input.name, keyHash: hashApiKey(key), scope: input.scope });
  return { record, key };
}

export function normaliseOrigin(origin: string): string {
  const o = origin.trim();
  if (o === '*') return o;
  let url: URL;
  try {
    url = new URL(o);
  } catch {
    throw new UsageError(`"${origin}" is not an origin: write it as scheme://host[:port], e.g. https://shop.example`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`"${origin}" must use http or https`);
  return url.origin;
}

/** A mistake of the person at the keyboard: printed without a stack trace. */
export class UsageError extends Error {
  override name = 'UsageError';
}
