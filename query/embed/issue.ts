/**
 * Issuing embed tokens and rotating a tenant's embed secret: what the REST admin route, the CLI
 * and the tRPC admin API call. Input is validated here, once, for all of them.
 */
import type { EmbedSecret, Registry } from '../../core/ports/index.ts';
import { newEmbedSecret, newTokenId, signEmbedToken, type EmbedClaims } from './token.ts';

export type EmbedAdminErrorCode = 'invalid_input' | 'not_found' | 'unsupported';

export class EmbedAdminError extends Error {
  readonly status: number;
  constructor(readonly code: EmbedAdminErrorCode, message: string) {
    super(message);
    this.name = 'EmbedAdminError';
    this.status = code === 'invalid_input' ? 400 : code === 'not_found' ? 404 : 501;
  }
  toJSON(): { error: { code: EmbedAdminErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

export interface IssueEmbedTokenInput {
  trackingId: string;
  /** Lifetime in days (default 30, at most 400)… */
  expiresInDays?: number;
  /** …or an absolute expiry (ISO time or ms since the epoch). */
  expiresAt?: string | number;
  /** Fixed filter: only pages whose path starts with this prefix. */
  pagePrefix?: string;
  /** Parent origins allowed to frame the dashboard (https://portal.example); none: not embeddable in a frame. */
  allowedOrigins?: string[];
}

export interface IssuedEmbedToken {
  token: string;
  trackingId: string;
  tenantId: string;
  tokenId: string;
  expiresAt: string;
  pagePrefix: string | null;
  allowedOrigins: string[];
}

export const DEFAULT_EMBED_DAYS = 30;
export const MAX_EMBED_DAYS = 400;
const DAY_MS = 86_400_000;

export async function issueEmbedToken(registry: Registry, input: IssueEmbedTokenInput, nowMs: number = Date.now()): Promise<IssuedEmbedToken> {
  const trackingId = typeof input?.trackingId === 'string' ? input.trackingId : '';
  if (!trackingId) throw new EmbedAdminError('invalid_input', 'trackingId is required: the tracking ID whose dashboard the token shows');
  const site = await registry.getTrackingId(trackingId);
  if (!site) throw new EmbedAdminError('not_found', `No tracking ID "${trackingId}". List them with: almanac tracking-ids list`);
  if (site.status === 'revoked') throw new EmbedAdminError('invalid_input', `Tracking ID "${trackingId}" is revoked; its stats cannot be embedded`);
  const expiresAtMs = expiry(input, nowMs);
  const pagePrefix = parsePagePrefix(input.pagePrefix);
  const allowedOrigins = (input.allowedOrigins ?? []).map(parseOrigin);

  const secret = (await registry.getEmbedSecret(site.tenantId)) ?? (await registry.initEmbedSecret(site.tenantId, newEmbedSecret()));
  const claims: EmbedClaims = {
    tid: site.id, tn: site.tenantId, g: secret.generation, iat: Math.floor(nowMs / 1000), exp: Math.floor(expiresAtMs / 1000), jti: newTokenId(),
    ...(pagePrefix ? { f: { pagePrefix } } : {}),
    ...(allowedOrigins.length ? { o: [...new Set(allowedOrigins)] } : {}),
  };
  return {
    token: signEmbedToken(claims, secret.secret),
    trackingId: site.id,
    tenantId: site.tenantId,
    tokenId: claims.jti,
    expiresAt: new Date(claims.exp * 1000).toISOString(),
    pagePrefix: pagePrefix ?? null,
    allowedOrigins: claims.o ?? [],
  };
}

/** New secret for the tenant: every embed token issued before stops working at once. */
export async function rotateEmbedSecret(registry: Registry, tenantId: string): Promise<Omit<EmbedSecret, 'secret'>> {
  if (!tenantId) throw new EmbedAdminError('invalid_input', 'tenantId is required');
  if (!(await registry.getTenant(tenantId))) throw new EmbedAdminError('not_found', `No tenant "${tenantId}". List them with: almanac tenants list`);
  const { secret: _hidden, ...rest } = await registry.rotateEmbedSecret(tenantId, newEmbedSecret());
  return { ...rest };
}



function expiry(input: IssueEmbedTokenInput, nowMs: number): number {
  if (input.expiresAt !== undefined && input.expiresInDays !== undefined) {
    throw new EmbedAdminError('invalid_input', 'give either expiresAt or expiresInDays, not both');
  }
  let at: number;
  if (input.expiresAt !== undefined) {
    at = typeof input.expiresAt === 'number' ? input.expiresAt : Date.parse(input.expiresAt);
    if (!Number.isFinite(at)) throw new EmbedAdminError('invalid_input', 'expiresAt must be an ISO time such as 2026-12-31T00:00:00Z');
  } else {
    const days = input.expiresInDays ?? DEFAULT_EMBED_DAYS;
    if (typeof days !== 'number' || !(days > 0)) throw new EmbedAdminError('invalid_input', 'expiresInDays must be a number of days > 0');
    at = nowMs + days * DAY_MS;
  }
  if (at <= nowMs) throw new EmbedAdminError('invalid_input', 'the expiry must be in the future');
  if (at > nowMs + MAX_EMBED_DAYS * DAY_MS) throw new EmbedAdminError('invalid_input', `a token may live at most ${MAX_EMBED_DAYS} days; issue a new one when it expires`);
  return at;
}

function parsePagePrefix(p: unknown): string | undefined {
  if (p === undefined || p === null || p === '') return undefined;
  if (typeof p !== 'string' || !p.startsWith('/') || p.length > 512 || /[\s?#]/.test(p)) {
    throw new EmbedAdminError('invalid_input', 'pagePrefix must be a URL path starting with "/", such as /blog/ (no query or fragment)');
  }
  return p;
}

function parseOrigin(o: unknown): string {
  let url: URL | undefined;
  try {
    url = typeof o === 'string' ? new URL(o) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== String(o).replace(/\/$/, '')) {
    throw new EmbedAdminError('invalid_input', `allowedOrigins: "${String(o)}" is not an origin; write scheme, host and port only, e.g. https://portal.example`);
  }
  return url.origin;
}

