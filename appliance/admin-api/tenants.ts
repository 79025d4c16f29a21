/** tenants: create, list with usage, quotas, suspend/resume, delete with its data (background job). */
import { z } from 'zod';
import type { Tenant } from '../../core/ports/index.ts';
import { createTenant, UsageError } from '../tenancy.ts';
import { adminProcedure, router, viewerProcedure } from './trpc.ts';
import { adminError } from './errors.ts';
import { recordAudit } from './audit-log.ts';
import { id, quotas } from './inputs.ts';
import { acceptedUsage } from './usage.ts';
import { deletionJobs } from './tenant-deletion.ts';
import type { AdminContext } from './context.ts';

async function requireTenant(ctx: AdminContext, tenantId: string): Promise<Tenant> {
  const tenant = await ctx.deps.registry.getTenant(tenantId);
  if (!tenant) throw adminError('not_found', `No tenant "${tenantId}". List tenants to find its ID.`);
  return tenant;
}

async function withUsage(ctx: AdminContext, tenant: Tenant) {
  const ids = (await ctx.deps.registry.listTrackingIds(tenant.id)).map((t) => t.id);
  return { ...tenant, trackingIdCount: ids.length, usage: await acceptedUsage(ctx.deps.registry, ids, ctx.now()) };
}

async function setStatus(ctx: AdminContext & Parameters<typeof recordAudit>[0], tenantId: string, status: Tenant['status']) {
  const before = await requireTenant(ctx, tenantId);
  const after = await ctx.deps.registry.updateTenant(tenantId, { status });
  await recordAudit(ctx, status === 'suspended' ? 'tenants.suspend' : 'tenants.resume', `tenant:${tenantId}`, before, after);
  return after;
}

export const tenantsRouter = router({
  list: viewerProcedure.query(async ({ ctx }) => Promise.all((await ctx.deps.registry.listTenants()).map((t) => withUsage(ctx, t)))),

  get: viewerProcedure.input(z.object({ id })).query(async ({ ctx, input }) => withUsage(ctx, await requireTenant(ctx, input.id))),

  create: adminProcedure
    .input(quotas.extend({ name: z.string().trim().min(1).max(200) }))
    .mutation(async ({ ctx, input }) => {
      try {
        const tenant = await createTenant(ctx.deps.registry, input);
        await recordAudit(ctx, 'tenants.create', `tenant:${tenant.id}`, null, tenant);
        return tenant;
      } catch (error) {
        if (error instanceof UsageError) throw adminError('invalid_request', error.message);
        throw error;
      }
    }),

  updateQuotas: adminProcedure
    .input(quotas.extend({ id }))
    .mutation(async ({ ctx, input }) => {
      const { id: tenantId, ...patch } = input;
      const before = await requireTenant(ctx, tenantId);
      const after = await ctx.deps.registry.updateTenant(tenantId, patch);
      await recordAudit(ctx, 'tenants.updateQuotas', `tenant:${tenantId}`, before, after);
      return after;
    }),

  /** Ingest for every tracking ID of the tenant is refused (tenant_suspended) until resumed. */
  suspend: adminProcedure.input(z.object({ id })).mutation(({ ctx, input }) => setStatus(ctx, input.id, 'suspended')),
  resume: adminProcedure.input(z.object({ id })).mutation(({ ctx, input }) => setStatus(ctx, input.id, 'active')),

  /** Starts deleting the tenant with its data in the background; `confirmName` must repeat the tenant's name. */
  delete: adminProcedure
    .input(z.object({ id, confirmName: z.string() }))
    .mutation(async ({ ctx, input }) => {
      const tenant = await requireTenant(ctx, input.id);
      if (input.confirmName !== tenant.name) throw adminError('invalid_request', `Type the tenant's name ("${tenant.name}") to confirm the deletion.`);
      const job = deletionJobs(ctx.deps).start(tenant);
      await recordAudit(ctx, 'tenants.delete', `tenant:${tenant.id}`, tenant, { deletionJob: job.id });
      return job;
    }),

  deletion: viewerProcedure.input(z.object({ jobId: id })).query(({ ctx, input }) => deletionJobs(ctx.deps).get(input.jobId)),

  deletionProgress: viewerProcedure
    .input(z.object({ jobId: id }))
    .subscription(async function* ({ ctx, input, signal }) {
      yield* deletionJobs(ctx.deps).watch(input.jobId, signal);
    }),
});
