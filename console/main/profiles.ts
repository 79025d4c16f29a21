/**
 * Saved connection profiles of the desktop console: a JSON file in the app's user-data folder.
 * Tokens are stored only encrypted (Electron's safeStorage, passed in as a `TokenCipher` so that
 * this module runs and is tested without Electron).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { ConnectionProfile, SaveProfileInput } from '../shared/bridge.ts';

export interface TokenCipher {
  /** False when the OS offers no secret store; tokens are then not saved at all. */
  available(): boolean;
  encrypt(plain: string): Buffer;
  decrypt(encrypted: Buffer): string;
}

interface StoredProfile {
  id: string;
  name: string;
  url: string;
  /** base64 of the encrypted token. */
  encryptedToken: string | null;
}

interface ProfilesFile {
  version: 1;
  lastUsedId: string | null;
  profiles: StoredProfile[];
}

export class ProfileError extends Error {
  override name = 'ProfileError';
}

/** "https://host:8420/console/" → "https://host:8420"; throws a ProfileError for anything else. */
export function normaliseApplianceUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw new ProfileError(`"${input}" is not a URL: write the appliance address as http(s)://host[:port]`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ProfileError(`"${input}" must use http or https`);
  const pathname = url.pathname.replace(/\/+$/, '').replace(/\/console$/, '');
  return url.origin + pathname;
}

export function createProfileStore(file: string, cipher: TokenCipher) {
  const read = (): ProfilesFile => {
    if (!existsSync(file)) return { version: 1, lastUsedId: null, profiles: [] };
    return JSON.parse(readFileSync(file, 'utf8')) as ProfilesFile;
  };
  const write = (data: ProfilesFile) => {
    mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, JSON.stringify(data, null, 2), { mode: 0o600 });
    renameSync(tmp, file);
  };
  const toPublic = (p: StoredProfile): ConnectionProfile => ({ id: p.id, name: p.name, url: p.url, hasToken: p.encryptedToken !== null });

  return {
    list(): ConnectionProfile[] {
      return read().profiles.map(toPublic);
    },
    get(id: string): ConnectionProfile | undefined {
      const p = read().profiles.find((x) => x.id === id);
      return p && toPublic(p);
    },
    save(input: SaveProfileInput): ConnectionProfile {
      const data = read();
      const name = input.name.trim();
      if (!name) throw new ProfileError('A connection needs a name');
      const url = normaliseApplianceUrl(input.url);
      let profile = input.id ? data.profiles.find((x) => x.id === input.id) : undefined;
      if (input.id && !profile) throw new ProfileError(`No saved connection "${input.id}"`);
      if (!profile) {
        profile = { id: randomUUID(), name, url, encryptedToken: null };
        data.profiles.push(profile);
      }
      // A token belongs to one appliance: moving the profile elsewhere forgets it.
      if (profile.url !== url) profile.encryptedToken = null;
      profile.name = name;
      profile.url = url;
      if (input.token === null) profile.encryptedToken = null;
      else if (input.token !== undefined) {
        if (!cipher.available()) throw new ProfileError('This system has no secret store (safeStorage unavailable): the token cannot be saved; sign in each time instead');
        profile.encryptedToken = cipher.encrypt(input.token).toString('base64');
      }
      write(data);
      return toPublic(profile);
    },
    delete(id: string): void {
      const data = read();
      data.profiles = data.profiles.filter((p) => p.id !== id);
      if (data.lastUsedId === id) data.lastUsedId = null;
      write(data);
    },
    token(id: string): string | null {
      const p = read().profiles.find((x) => x.id === id);
      if (!p?.encryptedToken || !cipher.available()) return null;
      return cipher.decrypt(Buffer.from(p.encryptedToken, 'base64'));
    },
    lastUsed(): ConnectionProfile | undefined {
      const data = read();
      const p = data.profiles.find((x) => x.id === data.lastUsedId);
      return p && toPublic(p);
    },
    markUsed(id: string): void {
      const data = read();
      data.lastUsedId = id;
      write(data);
    },
    /** The raw file, for tests that check no token is stored in clear. */
    rawFile(): string {
      return existsSync(file) ? readFileSync(file, 'utf8') : '';
    },
  };
}

export type ProfileStore = ReturnType<typeof createProfileStore>;

/** True when `pageUrl` is a page of the appliance at `applianceUrl` (same origin). */
export function isPageOfAppliance(pageUrl: string, applianceUrl: string): boolean {
  try {
    return new URL(pageUrl).origin === new URL(applianceUrl).origin;
  } catch {
    return false;
  }
}
