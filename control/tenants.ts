/**
 * Tenants: create, read with usage, quotas, suspend and resume, and the start of a deletion.
 * One way for the admin API, the CLI and the first-start bootstrap.
 */
import { z } from 'zod';
import type { Registry, Tenant } from '../core/ports/index.ts';
import { ControlError } from './errors.ts';
import { newTenantId } from './identifiers.ts';
import { acceptedUsage } from './usage.ts';
import { deletionJobs, type DeletionDeps, type DeletionJob } from './deletion.ts';

export const TENANT_DEFAULTS = {
  rateLimitPerSec: 1000, // events/s per tracking ID, burst twice that
  retentionDays: 730, // 2 years of raw events in the archive
} as const;

export const quotasInput = z.object({
  rateLimitPerSec: z.number().int().positive().max(1_000_000).optional(),
  monthlyEventCap: z.number().int().positive().nullable().optional(),
  retentionDays: z.number().int().positive().max(36_500).optional(),
});

export const newTenantInput = quotasInput.extend({ name: z.string().trim().min(1, 'A tenant needs a name: --name "Acme Shop"').max(200) });
export type NewTenant = z.input<typeof newTenantInput>;

export async function createTenant(registry: Registry, input: NewTenant): Promise<Tenant> {
  const name = input.name.trim();
  if (!name) throw new ControlError('invalid_request', 'A tenant needs a name: --name "Acme Shop"');
  return registry.createTenant({
    id: newTenantId(),
    name,
    status: 'active',
    rateLimitPerSec: input.rateLimitPerSec ?? TENANT_DEFAULTS.rateLimitPerSec,
    monthlyEventCap: input.monthlyEventCap ?? null,
    retentionDays: input.retentionDays ?? TENANT_DEFAULTS.retentionDays,
  });
}

export async function requireTenant(registry: Registry, tenantId: string): Promise<Tenant> {
  const tenant = await registry.getTenant(tenantId);
  if (!tenant) throw new ControlError('not_found', `No tenant "${tenantId}". List tenants with: almanac tenants list`);
  return tenant;
}

/** The tenant with its tracking ID count and its accepted events today and this month. */
export async function tenantWithUsage(registry: Registry, tenant: Tenant, now: number) {
  const ids = (await registry.listTrackingIds(tenant.id)).map((t) => t.id);
  return { ...tenant, trackingIdCount: ids.length, usage: await acceptedUsage(registry, ids, now) };
}

export interface Change<T> {
  before: T;
  after: T;
}

export async function updateTenantQuotas(registry: Registry, tenantId: string, patch: z.output<typeof quotasInput>): Promise<Change<Tenant>> {
  const before = await requireTenant(registry, tenantId);
  return { before, after: await registry.updateTenant(tenantId, patch) };
}

/** Suspended: ingest for every tracking ID of the tenant is refused (tenant_suspended) until resumed. */
export async function setTenantStatus(registry: Registry, tenantId: string, status: Tenant['status']): Promise<Change<Tenant>> {
  const before = await requireTenant(registry, tenantId);
  return { before, after: await registry.updateTenant(tenantId, { status }) };
}

/** Starts deleting the tenant with its data in the background; `confirmName` must repeat the tenant's name. */
export async function startTenantDeletion(deps: DeletionDeps, tenantId: string, confirmName: string): Promise<{ tenant: Tenant; job: DeletionJob }> {
  const tenant = await requireTenant(deps.registry, tenantId);
  if (confirmName !== tenant.name) throw new ControlError('invalid_request', `Type the tenant's name ("${tenant.name}") to confirm the deletion.`);
  return { tenant, job: deletionJobs(deps).start(tenant) };
}
