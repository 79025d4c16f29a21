/**
 * Dashboard embed tokens: signing and verification, pure (the secret is passed in).
 *
 *   emb1.<claims: base64url JSON>.<HMAC-SHA256(secret, "emb1." + claims): base64url>
 *
 * The claims name the tenant whose secret signed the token and that secret's generation, so a
 * token signed before a rotation is reported as revoked (not as tampered), and a verifier needs
 * one registry read to check it. Expiry is checked only after the signature: a token whose
 * expiry was edited is "invalid", not "expired".
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { reject, type Rejection } from '../../core/errors.ts';
import type { EmbedSecret } from '../../core/ports/index.ts';

export const EMBED_TOKEN_PREFIX = 'emb1.';

/** A fixed filter the token holder cannot lift. */
export interface EmbedFilter {
  /** Only pages whose path starts with this prefix, e.g. "/blog/". */
  pagePrefix?: string;
}

export interface EmbedClaims {
  /** Tracking ID the token may read. */
  tid: string;
  /** Tenant whose secret signed it. */
  tn: string;
  /** Generation of that secret. */
  g: number;
  /** Issued at and expiry, seconds since the epoch. */
  iat: number;
  exp: number;
  /** Random token ID (rate limiting key, logs). */
  jti: string;
  f?: EmbedFilter;
  /** Parent origins allowed to frame the dashboard; absent or empty: none. */
  o?: string[];
}

export function signEmbedToken(claims: EmbedClaims, secret: string): string {
  const body = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
  return `${EMBED_TOKEN_PREFIX}${body}.${mac(secret, body)}`;
}

/** The claims, unverified (to find the tenant's secret), or a malformed-token rejection. */
export function readEmbedClaims(token: string): EmbedClaims | Rejection {
  const parts = token.startsWith(EMBED_TOKEN_PREFIX) ? token.slice(EMBED_TOKEN_PREFIX.length).split('.') : [];
  if (parts.length !== 2 || !/^[A-Za-z0-9_-]+$/.test(parts[0]) || !/^[A-Za-z0-9_-]{43}$/.test(parts[1])) {
    return reject('embed_token_malformed');
  }
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
  } catch {
    return reject('embed_token_malformed');
  }
  return isClaims(claims) ? claims : reject('embed_token_malformed');
}

/**
 * Checks a token against its tenant's current secret (undefined: the tenant has none, or is
 * gone). `nowMs` is the clock.
 */
export function verifyEmbedToken(token: string, secret: EmbedSecret | undefined, nowMs: number): EmbedClaims | Rejection {
  const claims = readEmbedClaims(token);
  if ('ok' in claims) return claims;
  if (!secret || secret.tenantId !== claims.tn) return reject('embed_token_invalid', 'no embed secret for the tenant named in the token');
  if (claims.g < secret.generation) return reject('embed_token_revoked');
  if (claims.g > secret.generation) return reject('embed_token_invalid', 'the token names a secret generation that does not exist');
  const [body, signature] = token.slice(EMBED_TOKEN_PREFIX.length).split('.');
  // Compared as text, not decoded bytes: base64url decoding ignores the unused low bits of the
  // last character, so two spellings of one signature must not both pass.
  const expected = Buffer.from(mac(secret.secret, body), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return reject('embed_token_invalid');
  if (claims.exp * 1000 <= nowMs) return reject('embed_token_expired', `expired at ${new Date(claims.exp * 1000).toISOString()}`);
  return claims;
}

export function newEmbedSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function newTokenId(): string {
  return randomBytes(9).toString('base64url');
}

/** The value of `Content-Security-Policy` for a token's dashboard: who may frame it. */
export function frameAncestors(origins: readonly string[] | undefined): string {
  return `frame-ancestors ${origins && origins.length > 0 ? origins.join(' ') : "'none'"}`;
}

/** Does a page path pass the token's filter? */
export function pageAllowed(filter: EmbedFilter | undefined, page: string): boolean {
  return !filter?.pagePrefix || page.startsWith(filter.pagePrefix);
}

function mac(secret: string, body: string): string {
  return createHmac('sha256', secret).update(EMBED_TOKEN_PREFIX + body, 'utf8').digest('base64url');
}

function isClaims(c: unknown): c is EmbedClaims {
  if (typeof c !== 'object' || c === null) return false;
  const x = c as Record<string, unknown>;
  const int = (v: unknown) => Number.isSafeInteger(v);
  if (typeof x.tid !== 'string' || typeof x.tn !== 'string' || typeof x.jti !== 'string') return false;
  if (!int(x.g) || !int(x.iat) || !int(x.exp)) return false;
  if (x.f !== undefined) {
    if (typeof x.f !== 'object' || x.f === null) return false;
    const p = (x.f as Record<string, unknown>).pagePrefix;
    if (p !== undefined && typeof p !== 'string') return false;
  }
  if (x.o !== undefined && !(Array.isArray(x.o) && x.o.every((o) => typeof o === 'string'))) return false;
  return true;
}
