import type { EmbedSecret } from './records/embed-secret.ts';

/** Embed-token secrets in the registry (query/embed signs and verifies with them). */
export interface EmbedSecretRegistry {
  getEmbedSecret(tenantId: string): Promise<EmbedSecret | undefined>;
  /**
   * Stores `secret` as the tenant's generation 1 unless the tenant already has one; returns the
   * secret now stored (the existing one, or the winner's under races).
   */
  initEmbedSecret(tenantId: string, secret: string): Promise<EmbedSecret>;
  /** Replaces the tenant's secret and raises its generation (1 when it had none). */
  rotateEmbedSecret(tenantId: string, secret: string): Promise<EmbedSecret>;
}
