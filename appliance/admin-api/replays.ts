/** replays: start (with dry run and source), list, get, cancel, and live progress. Thin over pipeline/replay. */
import { z } from 'zod';
import { cancelReplay, describeReplay, getReplay, listReplays, ReplayError, startReplay } from '../../pipeline/replay/index.ts';
import { adminProcedure, router, viewerProcedure } from './trpc.ts';
import { TRPCError } from '@trpc/server';
import { ADMIN_ERRORS, AdminApiError, type AdminErrorCode } from './errors.ts';
import { recordAudit } from './audit-log.ts';
import { day, id } from './inputs.ts';
import { sleep } from '../../core/async.ts';

const PROGRESS_POLL_MS = 500;

/** ReplayError → TRPCError, keeping the replay's own code as the appCode. */
async function replayCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof ReplayError) {
      const kind: AdminErrorCode = error.status === 404 ? 'not_found' : error.status === 409 ? 'conflict' : error.status === 501 ? 'unsupported' : 'invalid_request';
      throw new TRPCError({ code: ADMIN_ERRORS[kind], message: error.message, cause: new AdminApiError(error.code, error.message) });
    }
    throw error;
  }
}

export const replaysRouter = router({
  start: adminProcedure
    .input(z.object({
      trackingIds: z.array(id).min(1).max(1000).optional(),
      tenantId: id.optional(),
      from: day,
      to: day,
      dryRun: z.boolean().default(false),
      source: z.enum(['auto', 'log', 'archive']).default('auto'),
    }))
    .mutation(async ({ ctx, input }) => {
      const job = await replayCall(() => startReplay(ctx.deps.registry, input, { eventLog: ctx.deps.eventLog, now: ctx.now }));
      const view = describeReplay(job);
      await recordAudit(ctx, 'replays.start', `replay:${job.id}`, null, view);
      return view;
    }),

  list: viewerProcedure
    .input(z.object({ limit: z.number().int().min(1).max(1000).default(100), status: z.array(z.enum(['queued', 'running', 'done', 'failed', 'cancelled'])).optional() }).default({}))
    .query(async ({ ctx, input }) => (await replayCall(() => listReplays(ctx.deps.registry, input))).map(describeReplay)),

  get: viewerProcedure
    .input(z.object({ id }))
    .query(async ({ ctx, input }) => describeReplay(await replayCall(() => getReplay(ctx.deps.registry, input.id)))),

  cancel: adminProcedure
    .input(z.object({ id }))
    .mutation(async ({ ctx, input }) => {
      const before = describeReplay(await replayCall(() => getReplay(ctx.deps.registry, input.id)));
      const after = describeReplay(await replayCall(() => cancelReplay(ctx.deps.registry, input.id, { now: ctx.now })));
      await recordAudit(ctx, 'replays.cancel', `replay:${input.id}`, before, after);
      return after;
    }),

  /** The job's view every ~500 ms while it changes; ends after the job finished (done, failed, cancelled). */
  progress: viewerProcedure
    .input(z.object({ id }))
    .subscription(async function* ({ ctx, input, signal }) {
      let last = '';
      for (;;) {
        const view = describeReplay(await replayCall(() => getReplay(ctx.deps.registry, input.id)));
        const json = JSON.stringify(view);
        if (json !== last) {
          last = json;
          yield view;
        }
        if (['done', 'failed', 'cancelled'].includes(view.status)) return;
        if (signal?.aborted) return;
        await sleep(PROGRESS_POLL_MS, signal);
      }
    }),
});

