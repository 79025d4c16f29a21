/**
 * embed: dashboard embed tokens (issue for a tracking ID, with the iframe and web-component
 * snippets) and rotation of a tenant's embed secret, which revokes all its tokens. The token
 * logic is query/embed/issue.ts, shared with the REST route and the CLI.
 */
import { z } from 'zod';
import { EmbedAdminError, issueEmbedToken, MAX_EMBED_DAYS, rotateEmbedSecret } from '../../query/embed/issue.ts';
import { adminProcedure, router } from './trpc.ts';
import { adminError } from './errors.ts';
import { recordAudit } from './audit-log.ts';
import { id, origin } from './inputs.ts';

const CODES = { invalid_input: 'invalid_request', not_found: 'not_found', unsupported: 'unsupported' } as const;

async function mapped<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof EmbedAdminError) throw adminError(CODES[error.code], error.message);
    throw error;
  }
}

/** The two ways to embed a token's dashboard in a merchant's page. */
export function embedSnippets(publicUrl: string, token: string): { iframe: string; webComponent: string; url: string } {
  const base = publicUrl.replace(/\/$/, '');
  const url = `${base}/embed/dashboard?token=${encodeURIComponent(token)}`;
  return {
    url,
    iframe: `<iframe src="${url}" style="width:100%;min-height:900px;border:0" loading="lazy" title="Analytics"></iframe>`,
    webComponent: `<script src="${base}/embed/almanac-dashboard.js" defer></script>\n<almanac-dashboard token="${token}"></almanac-dashboard>`,
  };
}

export const embedRouter = router({
  /** A signed token for one tracking ID's dashboard; shown once (it is not stored). */
  issueToken: adminProcedure
    .input(z.object({
      trackingId: id,
      expiresInDays: z.number().int().min(1).max(MAX_EMBED_DAYS).default(30),
      pagePrefix: z.string().trim().startsWith('/').max(500).optional(),
      allowedOrigins: z.array(origin).max(50).default([]),
    }))
    .mutation(async ({ ctx, input }) => {
      const issued = await mapped(() => issueEmbedToken(ctx.deps.registry, input));
      const { token: _secret, ...recorded } = issued;
      await recordAudit(ctx, 'embed.issueToken', `trackingId:${input.trackingId}`, null, recorded);
      return { ...issued, ...embedSnippets(ctx.deps.publicUrl, issued.token) };
    }),

  /** A new secret for the tenant: every embed token issued before stops working at once. */
  rotateSecret: adminProcedure
    .input(z.object({ tenantId: id }))
    .mutation(async ({ ctx, input }) => {
      const rotated = await mapped(() => rotateEmbedSecret(ctx.deps.registry, input.tenantId));
      await recordAudit(ctx, 'embed.rotateSecret', `tenant:${input.tenantId}`, null, rotated);
      return rotated;
    }),
});
