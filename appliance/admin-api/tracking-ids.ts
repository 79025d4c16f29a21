/** trackingIds: create, list, get (snippet, server key), rotate key, pause/resume, revoke, counts. */
import { z } from 'zod';
import type { TrackingIdRecord } from '../../core/ports/index.ts';
import { DAY_MS, dayOf } from '../../core/time.ts';
import { snippetFor } from '../../collectors/index.ts';
import { createTrackingId, UsageError } from '../tenancy.ts';
import { newServerKey } from '../identifiers.ts';
import { adminProcedure, router, viewerProcedure } from './trpc.ts';
import { adminError } from './errors.ts';
import { recordAudit } from './audit-log.ts';
import { id, origin } from './inputs.ts';
import { foldCounts } from './usage.ts';
import type { AdminContext, Identity } from './context.ts';

type Ctx = AdminContext & { identity: Identity };

async function requireTrackingId(ctx: AdminContext, trackingId: string): Promise<TrackingIdRecord> {
  const record = await ctx.deps.registry.getTrackingId(trackingId);
  if (!record) throw adminError('not_found', `No tracking ID "${trackingId}". List the tenant's tracking IDs to find it.`);
  return record;
}

/** Viewers see that a server key exists, not the key. */
function shown(ctx: Ctx, record: TrackingIdRecord) {
  return { ...record, serverKey: ctx.identity.role === 'viewer' ? null : record.serverKey };
}

async function setStatus(ctx: Ctx, trackingId: string, status: TrackingIdRecord['status'], action: string) {
  const before = await requireTrackingId(ctx, trackingId);
  if (before.status === 'revoked' && status !== 'revoked') throw adminError('conflict', `Tracking ID "${trackingId}" is revoked for good: create a new one.`);
  const after = await ctx.deps.registry.updateTrackingId(trackingId, { status });
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
      const record = await requireTrackingId(ctx, input.id);
      return { ...shown(ctx, record), snippet: snippetFor(record.id, ctx.deps.publicUrl, { allowLocalhost: input.allowLocalhost }) };
    }),

  create: adminProcedure
    .input(z.object({ tenantId: id, name: z.string().trim().min(1).max(200), allowedOrigins: z.array(origin).min(1).max(100), respectDnt: z.boolean().default(false) }))
    .mutation(async ({ ctx, input }) => {
      let record: TrackingIdRecord;
      try {
        record = await createTrackingId(ctx.deps.registry, input);
      } catch (error) {
        if (error instanceof UsageError) throw adminError(/No tenant/.test(error.message) ? 'not_found' : 'invalid_request', error.message);
        throw error;
      }
      await recordAudit(ctx, 'trackingIds.create', `trackingId:${record.id}`, null, record);
      return { ...record, snippet: snippetFor(record.id, ctx.deps.publicUrl) };
    }),

  /** A new server key; the old one stops working at once (collectors re-read the registry within their cache TTL). */
  rotateServerKey: adminProcedure
    .input(z.object({ id }))
    .mutation(async ({ ctx, input }) => {
      const before = await requireTrackingId(ctx, input.id);
      const after = await ctx.deps.registry.updateTrackingId(input.id, { serverKey: newServerKey() });
      await recordAudit(ctx, 'trackingIds.rotateServerKey', `trackingId:${input.id}`, before, after);
      return after;
    }),

  pause: adminProcedure.input(z.object({ id })).mutation(({ ctx, input }) => setStatus(ctx, input.id, 'paused', 'trackingIds.pause')),
  resume: adminProcedure.input(z.object({ id })).mutation(({ ctx, input }) => setStatus(ctx, input.id, 'active', 'trackingIds.resume')),
  revoke: adminProcedure.input(z.object({ id })).mutation(({ ctx, input }) => setStatus(ctx, input.id, 'revoked', 'trackingIds.revoke')),

  /** Accepted, rejected by reason and bot-dropped events over the last `days` UTC days (1 = today). */
  counts: viewerProcedure
    .input(z.object({ id, days: z.number().int().min(1).max(400).default(1) }))
    .query(async ({ ctx, input }) => {
      await requireTrackingId(ctx, input.id);
      const today = dayOf(ctx.now());
      const from = today - (input.days - 1) * DAY_MS;
      return { trackingId: input.id, from, to: today + DAY_MS, ...foldCounts(await ctx.deps.registry.ingestCounts(input.id, from, today + DAY_MS)) };
    }),
});
