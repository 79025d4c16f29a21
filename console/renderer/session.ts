/**
 * The signed-in state. In a browser the token lives in sessionStorage (gone with the tab); in
 * the desktop app it comes from the saved connection profile (encrypted by the main process) and
 * a fresh sign-in is saved back to that profile.
 */
import { createSignal } from 'solid-js';
import type { ConnectionProfile } from '../shared/bridge.ts';

const STORAGE_KEY = 'almanac.console.token';

export function createSession() {
  const desktop = window.almanacDesktop;
  const [token, setToken] = createSignal<string | null>(desktop ? null : sessionStorage.getItem(STORAGE_KEY));
  const [profile, setProfile] = createSignal<ConnectionProfile | null>(null);

  /** Desktop: picks up the current profile and its stored token. */
  async function load(): Promise<void> {
    if (!desktop) return;
    const current = await desktop.currentProfile();
    setProfile(current);
    if (current?.hasToken) setToken(await desktop.getToken());
  }

  async function signedIn(newToken: string, remember: boolean): Promise<void> {
    setToken(newToken);
    if (!desktop) sessionStorage.setItem(STORAGE_KEY, newToken);
    const current = profile();
    if (desktop && current && remember) setProfile(await desktop.saveProfile({ id: current.id, name: current.name, url: current.url, token: newToken }));
  }

  async function signedOut(): Promise<void> {
    setToken(null);
    if (!desktop) sessionStorage.removeItem(STORAGE_KEY);
    const current = profile();
    if (desktop && current?.hasToken) setProfile(await desktop.saveProfile({ id: current.id, name: current.name, url: current.url, token: null }));
  }

  return { token, profile, load, signedIn, signedOut, isDesktop: desktop !== undefined };
}

export type Session = ReturnType<typeof createSession>;
