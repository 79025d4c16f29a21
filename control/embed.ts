/**
 * Dashboard embed tokens: issuing one for a tracking ID (with the one pair of snippets every door
 * hands out) and rotating a tenant's embed secret, which revokes all its tokens. The token format
 * and its verification are query/embed/.
 */
import { z } from 'zod';
import type { EmbedSecret, Registry } from '../core/ports/index.ts';
import { newEmbedSecret, newTokenId, signEmbedToken, type EmbedClaims } from '../query/embed/token.ts';
import { ControlError } from './errors.ts';

export const DEFAULT_EMBED_DAYS = 30;
export const MAX_EMBED_DAYS = 400;
const DAY_MS = 86_400_000;

/** The shape; the rules between fields and against the clock are checked in issueEmbedToken. */
export const issueEmbedTokenInput = z.object({
  trackingId: z.string({ required_error: 'trackingId is required: the tracking ID whose dashboard the token shows' })
    .min(1, 'trackingId is required: the tracking ID whose dashboard the token shows').max(200),
  /** Lifetime in days (default 30, at most 400)… */
  expiresInDays: z.number().optional(),
  /** …or an absolute expiry (ISO time or ms since the epoch). */
  expiresAt: z.union([z.string().max(100), z.number()]).optional(),
  /** Fixed filter: only pages whose path starts with this prefix. */
  pagePrefix: z.string().max(512).nullish(),
  /** Parent origins allowed to frame the dashboard (https://portal.example); none: not embeddable in a frame. */
  allowedOrigins: z.array(z.string().max(300)).max(50).optional(),
});
export type IssueEmbedTokenInput = z.input<typeof issueEmbedTokenInput>;

export interface IssuedEmbedToken {
  token: string;
  trackingId: string;
  tenantId: string;
  tokenId: string;
  expiresAt: string;
  pagePrefix: string | null;
  allowedOrigins: string[];
}

export interface EmbedSnippets {
  /** The page to frame. */
  iframeUrl: string;
  iframe: string;
  webComponent: string;
}

/**
 * How to put a token's dashboard on a page. The iframe grows past 900 px when the page lets it
 * (min-height, not height), loads when scrolled into view, and sends no Referer, so the
 * merchant's page URL does not reach the appliance's logs.
 */
export function embedSnippets(publicUrl: string, token: string): EmbedSnippets {
  const base = publicUrl.replace(/\/$/, '');
  const iframeUrl = `${base}/embed/dashboard?token=${encodeURIComponent(token)}`;
  return {
    iframeUrl,
    iframe: `<iframe src="${iframeUrl}" style="width:100%;min-height:900px;border:0" loading="lazy" referrerpolicy="no-referrer" title="Analytics"></iframe>`,
    webComponent: `<script src="${base}/embed/almanac-dashboard.js" defer></script>\n<almanac-dashboard token="${token}"></almanac-dashboard>`,
  };
}

/** A signed token for one tracking ID's dashboard, with its snippets; shown once (it is not stored). */
export async function issueEmbedToken(
  deps: { registry: Registry; publicUrl: string },
  input: z.output<typeof issueEmbedTokenInput>,
  nowMs: number,
): Promise<IssuedEmbedToken & EmbedSnippets> {
  const { registry } = deps;
  const secrets = registry;
  const site = await registry.getTrackingId(input.trackingId);
  if (!site) throw new ControlError('not_found', `No tracking ID "${input.trackingId}". List them with: almanac tracking-ids list`);
  if (site.status === 'revoked') throw new ControlError('invalid_request', `Tracking ID "${input.trackingId}" is revoked; its stats cannot be embedded`);
  const expiresAtMs = expiry(input, nowMs);
  const pagePrefix = parsePagePrefix(input.pagePrefix);
  const allowedOrigins = (input.allowedOrigins ?? []).map(parseOrigin);

  const secret = (await secrets.getEmbedSecret(site.tenantId)) ?? (await secrets.initEmbedSecret(site.tenantId, newEmbedSecret()));
  const claims: EmbedClaims = {
    tid: site.id, tn: site.tenantId, g: secret.generation, iat: Math.floor(nowMs / 1000), exp: Math.floor(expiresAtMs / 1000), jti: newTokenId(),
    ...(pagePrefix ? { f: { pagePrefix } } : {}),
    ...(allowedOrigins.length ? { o: [...new Set(allowedOrigins)] } : {}),
  };
  const token = signEmbedToken(claims, secret.secret);
  return {
    token,
    trackingId: site.id,
    tenantId: site.tenantId,
    tokenId: claims.jti,
    expiresAt: new Date(claims.exp * 1000).toISOString(),
    pagePrefix: pagePrefix ?? null,
    allowedOrigins: claims.o ?? [],
    ...embedSnippets(deps.publicUrl, token),
  };
}

/** New secret for the tenant: every embed token issued before stops working at once. */
export async function rotateEmbedSecret(registry: Registry, tenantId: string): Promise<Omit<EmbedSecret, 'secret'>> {
  const secrets = registry;
  if (!tenantId) throw new ControlError('invalid_request', 'tenantId is required');
  if (!(await registry.getTenant(tenantId))) throw new ControlError('not_found', `No tenant "${tenantId}". List them with: almanac tenants list`);
  const { secret: _hidden, ...rest } = await secrets.rotateEmbedSecret(tenantId, newEmbedSecret());
  return { ...rest };
}


function expiry(input: IssueEmbedTokenInput, nowMs: number): number {
  if (input.expiresAt !== undefined && input.expiresInDays !== undefined) {
    throw new ControlError('invalid_request', 'give either expiresAt or expiresInDays, not both');
  }
  let at: number;
  if (input.expiresAt !== undefined) {
    at = typeof input.expiresAt === 'number' ? input.expiresAt : Date.parse(input.expiresAt);
    if (!Number.isFinite(at)) throw new ControlError('invalid_request', 'expiresAt must be an ISO time such as 2026-12-31T00:00:00Z');
  } else {
    const days = input.expiresInDays ?? DEFAULT_EMBED_DAYS;
    if (!(days > 0)) throw new ControlError('invalid_request', 'expiresInDays must be a number of days > 0');
    at = nowMs + days * DAY_MS;
  }
  if (at <= nowMs) throw new ControlError('invalid_request', 'the expiry must be in the future');
  if (at > nowMs + MAX_EMBED_DAYS * DAY_MS) throw new ControlError('invalid_request', `a token may live at most ${MAX_EMBED_DAYS} days; issue a new one when it expires`);
  return at;
}

function parsePagePrefix(p: string | null | undefined): string | undefined {
  if (p === undefined || p === null || p === '') return undefined;
  if (!p.startsWith('/') || /[\s?#]/.test(p)) {
    throw new ControlError('invalid_request', 'pagePrefix must be a URL path starting with "/", such as /blog/ (no query or fragment)');
  }
  return p;
}

function parseOrigin(o: string): string {
  let url: URL | undefined;
  try {
    url = new URL(o);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== o.replace(/\/$/, '')) {
    throw new ControlError('invalid_request', `allowedOrigins: "${o}" is not an origin; write scheme, host and port only, e.g. https://portal.example`);
  }
  return url.origin;
}
