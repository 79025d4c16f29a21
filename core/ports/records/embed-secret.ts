/** The embed-token secret record of the registry. */

/**
 * A tenant's secret for signing dashboard embed tokens (query/embed). Rotating it replaces the
 * secret and raises the generation, which revokes every token signed before.
 */
export interface EmbedSecret {
  tenantId: string;
  /** base64url, 32 random bytes. */
  secret: string;
  /** 1 for the first secret, +1 per rotation. Tokens carry it, so an old one reads "revoked". */
  generation: number;
  rotatedAt: number;
}
