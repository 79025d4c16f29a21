/** audit: the log of every mutation, newest first, in pages. */
import { z } from 'zod';
import { router, viewerProcedure } from './procedures.ts';

export const auditRouter = router({
  list: viewerProcedure
    .input(z.object({
      actor: z.string().max(200).optional(),
      action: z.string().max(100).optional(),
      target: z.string().max(200).optional(),
      /** The `nextCursor` of the previous page. */
      cursor: z.string().max(100).optional(),
      limit: z.number().int().min(1).max(500).default(50),
    }).default({}))
    .query(async ({ ctx, input }) => {
      const entries = await ctx.deps.registry.listAudit({
        actor: input.actor, action: input.action, target: input.target, beforeId: input.cursor, limit: input.limit + 1,
      });
      const page = entries.slice(0, input.limit);
      return { entries: page, nextCursor: entries.length > input.limit ? page[page.length - 1].id : null };
    }),
});
