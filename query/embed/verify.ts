/**
 * The I/O edge of embed tokens: checks a token against the registry (the tenant's current secret,
 * the tracking ID still there and not revoked). One or two registry reads per request; the
 * secret is read every time, so a rotation revokes tokens at once on every node.
 */
import { reject, type Rejection } from '../../core/errors.ts';
import type { Registry } from '../../core/ports/index.ts';
import { readEmbedClaims, verifyEmbedToken, type EmbedClaims } from './token.ts';

export async function checkEmbedToken(registry: Registry, token: string, nowMs: number): Promise<EmbedClaims | Rejection> {
  const unverified = readEmbedClaims(token);
  if ('ok' in unverified) return unverified;
  const secret = registry.getEmbedSecret ? await registry.getEmbedSecret(unverified.tn) : undefined;
  const claims = verifyEmbedToken(token, secret, nowMs);
  if ('ok' in claims) return claims;
  const site = await registry.getTrackingId(claims.tid);
  if (!site || site.tenantId !== claims.tn) return reject('embed_token_invalid', 'the tracking ID of this token no longer belongs to its tenant');
  if (site.status === 'revoked') return reject('embed_token_revoked', 'the tracking ID was revoked');
  return claims;
}

/** The token in an `Authorization: Bearer emb1.…` header, if it is one. */
export function embedTokenOf(authorization: string | undefined): string | undefined {
  const m = /^Bearer\s+(emb1\.\S+)\s*$/i.exec(authorization ?? '');
  return m?.[1];
}
