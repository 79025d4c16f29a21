/** scaling: the nodes and their workers, desired worker counts, Kafka partitions and lag, events/s. Thin over control/desired-scale.ts. */
import { z } from 'zod';
import { listNodes, setDesiredScale, workerCountsInput } from '../../control/desired-scale.ts';
import { recordAudit } from '../../control/audit.ts';
import { adminProcedure, router, viewerProcedure } from './procedures.ts';
import { id } from './inputs.ts';
import { logThroughput } from './throughput.ts';

export const scalingRouter = router({
  nodes: viewerProcedure
    .input(z.object({ maxAgeMs: z.number().int().positive().max(3_600_000).optional() }).default({}))
    .query(async ({ ctx, input }) => listNodes(ctx.deps.registry, input.maxAgeMs)),

  setDesired: adminProcedure
    .input(z.object({ nodeId: id, counts: workerCountsInput }))
    .mutation(async ({ ctx, input }) => {
      const { before, after } = await setDesiredScale(ctx.deps.registry, input.nodeId, input.counts);
      await recordAudit(ctx, 'scaling.setDesired', `node:${input.nodeId}`, before, after);
      return { nodeId: input.nodeId, desired: after };
    }),

  /** Partitions, end offsets, consumer lag per group and partition, and events/s in (appended) and out (per group). */
  log: viewerProcedure.query(async ({ ctx }) => logThroughput(ctx.deps).sample()),
});
