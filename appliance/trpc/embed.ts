/** embed: dashboard embed tokens with their snippets, and rotation of a tenant's embed secret. Thin over control/embed.ts. */
import { z } from 'zod';
import { issueEmbedToken, issueEmbedTokenInput, rotateEmbedSecret } from '../../control/embed.ts';
import { recordAudit } from '../../control/audit.ts';
import { adminProcedure, router } from './procedures.ts';
import { id } from './inputs.ts';

export const embedRouter = router({
  /** A signed token for one tracking ID's dashboard; shown once (it is not stored). */
  issueToken: adminProcedure
    .input(issueEmbedTokenInput)
    .mutation(async ({ ctx, input }) => {
      const issued = await issueEmbedToken(ctx.deps, input, ctx.now());
      const { token: _secret, iframeUrl: _url, iframe: _iframe, webComponent: _component, ...recorded } = issued;
      await recordAudit(ctx, 'embed.issueToken', `trackingId:${input.trackingId}`, null, recorded);
      return issued;
    }),

  /** A new secret for the tenant: every embed token issued before stops working at once. */
  rotateSecret: adminProcedure
    .input(z.object({ tenantId: id }))
    .mutation(async ({ ctx, input }) => {
      const rotated = await rotateEmbedSecret(ctx.deps.registry, input.tenantId);
      await recordAudit(ctx, 'embed.rotateSecret', `tenant:${input.tenantId}`, null, rotated);
      return rotated;
    }),
});
