/** tenants: create, list with usage, quotas, suspend/resume, delete with its data (background job). Thin over control/tenants.ts. */
import { z } from 'zod';
import type { Tenant } from '../../core/ports/index.ts';
import { createTenant, newTenantInput, quotasInput, requireTenant, setTenantStatus, startTenantDeletion, tenantWithUsage, updateTenantQuotas } from '../../control/tenants.ts';
import { deletionJobs } from '../../control/deletion.ts';
import { recordAudit } from '../../control/audit.ts';
import { adminProcedure, mapControlErrors, router, viewerProcedure } from './procedures.ts';
import { id } from './inputs.ts';
import type { AdminContext, Identity } from './context.ts';

async function setStatus(ctx: AdminContext & { identity: Identity }, tenantId: string, status: Tenant['status']) {
  const { before, after } = await setTenantStatus(ctx.deps.registry, tenantId, status);
  await recordAudit(ctx, status === 'suspended' ? 'tenants.suspend' : 'tenants.resume', `tenant:${tenantId}`, before, after);
  return after;
}

export const tenantsRouter = router({
  list: viewerProcedure.query(async ({ ctx }) => Promise.all((await ctx.deps.registry.listTenants()).map((t) => tenantWithUsage(ctx.deps.registry, t, ctx.now())))),

  get: viewerProcedure.input(z.object({ id })).query(async ({ ctx, input }) => tenantWithUsage(ctx.deps.registry, await requireTenant(ctx.deps.registry, input.id), ctx.now())),

  create: adminProcedure
    .input(newTenantInput)
    .mutation(async ({ ctx, input }) => {
      const tenant = await createTenant(ctx.deps.registry, input);
      await recordAudit(ctx, 'tenants.create', `tenant:${tenant.id}`, null, tenant);
      return tenant;
    }),

  updateQuotas: adminProcedure
    .input(quotasInput.extend({ id }))
    .mutation(async ({ ctx, input }) => {
      const { id: tenantId, ...patch } = input;
      const { before, after } = await updateTenantQuotas(ctx.deps.registry, tenantId, patch);
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
      const { tenant, job } = await startTenantDeletion(ctx.deps, input.id, input.confirmName);
      await recordAudit(ctx, 'tenants.delete', `tenant:${tenant.id}`, tenant, { deletionJob: job.id });
      return job;
    }),

  deletion: viewerProcedure.input(z.object({ jobId: id })).query(({ ctx, input }) => deletionJobs(ctx.deps).get(input.jobId)),

  deletionProgress: viewerProcedure
    .input(z.object({ jobId: id }))
    .subscription(({ ctx, input, signal }) => mapControlErrors(deletionJobs(ctx.deps).watch(input.jobId, signal))),
});
