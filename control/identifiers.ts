/** Identifiers and secrets. Random parts come from the OS CSPRNG. */
import { randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789'; // no 0/o/1/l: IDs get read aloud and retyped

function randomWord(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out;
}

export const newTenantId = (): string => `tn_${randomWord(10)}`;
export const newTrackingId = (): string => `AL-${randomWord(10).toUpperCase()}`;
export const newServerKey = (): string => `sk_${randomBytes(24).toString('base64url')}`;
export const newApiKey = (): string => `ak_${randomBytes(24).toString('base64url')}`;
export const newApiKeyId = (): string => `key_${randomWord(10)}`;
