/** scaling: the nodes and their workers, desired worker counts, Kafka partitions and lag, events/s. */
import { z } from 'zod';
import { adminProcedure, router, viewerProcedure } from './trpc.ts';
import { TRPCError } from '@trpc/server';
import { ScalingError } from '../../core/desired-scale.ts';
import { AdminApiError } from './errors.ts';
import { recordAudit } from './audit-log.ts';
import { id, workerCounts } from './inputs.ts';
import { logThroughput } from './throughput.ts';

export const scalingRouter = router({
  nodes: viewerProcedure
    .input(z.object({ maxAgeMs: z.number().int().positive().max(3_600_000).optional() }).default({}))
    .query(async ({ ctx, input }) => ctx.deps.registry.listNodes(input.maxAgeMs)),

  setDesired: adminProcedure
    .input(z.object({ nodeId: id, counts: workerCounts }))
    .mutation(async ({ ctx, input }) => {
      const scaling = ctx.deps.registry;
      const before = (await scaling.getDesiredScale(input.nodeId)) ?? null;
      try {
        await scaling.setDesiredScale(input.nodeId, input.counts);
      } catch (error) {
        // The registry's own check (e.g. the embedded profile runs one worker of each role).
        if (error instanceof ScalingError) throw new TRPCError({ code: 'BAD_REQUEST', message: error.message, cause: new AdminApiError(error.code, error.message) });
        throw error;
      }
      await recordAudit(ctx, 'scaling.setDesired', `node:${input.nodeId}`, before, input.counts);
      return { nodeId: input.nodeId, desired: input.counts };
    }),

  /** Partitions, end offsets, consumer lag per group and partition, and events/s in (appended) and out (per group). */
  log: viewerProcedure.query(async ({ ctx }) => logThroughput(ctx.deps).sample()),
});
