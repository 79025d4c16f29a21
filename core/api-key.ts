/**
 * The one hash of API keys and session tokens: the registry stores only this, never the secret.
 * In core because both the stats API (query/auth.ts) and the control path (control/api-keys.ts,
 * control/sessions.ts) check keys, and neither may import the other.
 */
import { createHash } from 'node:crypto';

/** sha256, hex: the keys are 24+ random bytes, so a fast hash without salt is enough. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
