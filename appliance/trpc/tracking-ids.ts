/** trackingIds: create, list, get (snippet, server key), rotate key, pause/resume, revoke, counts. Thin over control/tracking-ids.ts. */
import { z } from 'zod';
import type { TrackingIdRecord } from '../../core/ports/index.ts';
import { snippetFor } from '../../collectors/index.ts';
import { createTrackingId, newTrackingIdInput, requireTrackingId, rotateServerKey, setTrackingIdStatus, trackingIdCounts } from '../../control/tracking-ids.ts';
import { recordAudit } from '../../control/audit.ts';
import { adminProcedure, router, viewerProcedure } from './procedures.ts';
import { id } from './inputs.ts';
import type { AdminContext, Identity } from './context.ts';

type Ctx = AdminContext & { identity: Identity };

/** Viewers see that a server key exists, not the key. */
function shown(ctx: Ctx, record: TrackingIdRecord) {
  return { ...record, serverKey: ctx.identity.role === 'viewer' ? null : record.serverKey };
}

async function setStatus(ctx: Ctx, trackingId: string, status: TrackingIdRecord['status'], action: string) {
  const { before, after } = await setTrackingIdStatus(ctx.deps.registry, trackingId, status);
  await recordAudit(ctx, action, `trackingId:${trackingId}`, before, after);
  return shown(ctx, after);
}

export const trackingIdsRouter = router({
  list: viewerProcedure
    .input(z.object({ tenantId: id.optional() }).default({}))
    .query(async ({ ctx, input }) => (await ctx.deps.registry.listTrackingIds(input.tenantId)).map((r) => shown(ctx, r))),

  get: viewerProcedure
    .input(z.object({ id, allowLocalhost: z.boolean().default(false) }))
    .query(async ({ ctx, input }) => {
      const record = await requireTrackingId(ctx.deps.registry, input.id);
      return { ...shown(ctx, record), snippet: snippetFor(record.id, ctx.deps.publicUrl, { allowLocalhost: input.allowLocalhost }) };
    }),

  create: adminProcedure
    .input(newTrackingIdInput)
    .mutation(async ({ ctx, input }) => {
      const record = await createTrackingId(ctx.deps.registry, input);
      await recordAudit(ctx, 'trackingIds.create', `trackingId:${record.id}`, null, record);
      return { ...record, snippet: snippetFor(record.id, ctx.deps.publicUrl) };
    }),

  /** A new server key; the old one stops working at once (collectors re-read the registry within their cache TTL). */
  rotateServerKey: adminProcedure
    .input(z.object({ id }))
    .mutation(async ({ ctx, input }) => {
      const { before, after } = await rotateServerKey(ctx.deps.registry, input.id);
      await recordAudit(ctx, 'trackingIds.rotateServerKey', `trackingId:${input.id}`, before, after);
      return after;
    }),

  pause: adminProcedure.input(z.object({ id })).mutation(({ ctx, input }) => setStatus(ctx, input.id, 'paused', 'trackingIds.pause')),
  resume: adminProcedure.input(z.object({ id })).mutation(({ ctx, input }) => setStatus(ctx, input.id, 'active', 'trackingIds.resume')),
  revoke: adminProcedure.input(z.object({ id })).mutation(({ ctx, input }) => setStatus(ctx, input.id, 'revoked', 'trackingIds.revoke')),

  /** Accepted, rejected by reason and bot-dropped events over the last `days` UTC days (1 = today). */
  counts: viewerProcedure
    .input(z.object({ id, days: z.number().int().min(1).max(400).default(1) }))
    .query(({ ctx, input }) => trackingIdCounts(ctx.deps.registry, input.id, input.days, ctx.now())),
});
