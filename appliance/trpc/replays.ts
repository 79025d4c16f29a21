/** replays: start (with dry run and source), list, get, cancel, and live progress. Thin over control/replays.ts. */
import { z } from 'zod';
import { sleep } from '../../core/async.ts';
import { cancelReplay, describeReplay, getReplay, listReplays, listReplaysInput, startReplay, startReplayInput } from '../../control/replays.ts';
import { recordAudit } from '../../control/audit.ts';
import { adminProcedure, mapControlErrors, router, viewerProcedure } from './procedures.ts';
import { id } from './inputs.ts';

const PROGRESS_POLL_MS = 500;

export const replaysRouter = router({
  start: adminProcedure
    .input(startReplayInput)
    .mutation(async ({ ctx, input }) => {
      const job = await startReplay(ctx.deps.registry, input, { eventLog: ctx.deps.eventLog, now: ctx.now });
      const view = describeReplay(job);
      await recordAudit(ctx, 'replays.start', `replay:${job.id}`, null, view);
      return view;
    }),

  list: viewerProcedure
    .input(listReplaysInput)
    .query(async ({ ctx, input }) => (await listReplays(ctx.deps.registry, input)).map(describeReplay)),

  get: viewerProcedure
    .input(z.object({ id }))
    .query(async ({ ctx, input }) => describeReplay(await getReplay(ctx.deps.registry, input.id))),

  cancel: adminProcedure
    .input(z.object({ id }))
    .mutation(async ({ ctx, input }) => {
      const before = describeReplay(await getReplay(ctx.deps.registry, input.id));
      const after = describeReplay(await cancelReplay(ctx.deps.registry, input.id, { now: ctx.now }));
      await recordAudit(ctx, 'replays.cancel', `replay:${input.id}`, before, after);
      return after;
    }),

  /** The job's view every ~500 ms while it changes; ends after the job finished (done, failed, cancelled). */
  progress: viewerProcedure
    .input(z.object({ id }))
    .subscription(({ ctx, input, signal }) => mapControlErrors((async function* () {
      let last = '';
      for (;;) {
        const view = describeReplay(await getReplay(ctx.deps.registry, input.id));
        const json = JSON.stringify(view);
        if (json !== last) {
          last = json;
          yield view;
        }
        if (['done', 'failed', 'cancelled'].includes(view.status)) return;
        if (signal?.aborted) return;
        await sleep(PROGRESS_POLL_MS, signal);
      }
    })())),
});
