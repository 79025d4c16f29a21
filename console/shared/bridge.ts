/**
 * The preload bridge between the Electron shell and the renderer: the only things the renderer
 * can ask of the desktop app. In a plain browser `window.almanacDesktop` is undefined and the
 * renderer signs in against the origin that served it.
 */

/** A saved connection to an appliance. The token itself never leaves the main process unasked. */
export interface ConnectionProfile {
  id: string;
  name: string;
  /** The appliance's base URL, e.g. https://almanac.example:8420 (no trailing slash). */
  url: string;
  /** Whether a token is stored (encrypted with Electron's safeStorage). */
  hasToken: boolean;
}

export interface SaveProfileInput {
  /** Omit to create a new profile. */
  id?: string;
  name: string;
  url: string;
  /** A new token to store; undefined keeps the stored one, null forgets it. */
  token?: string | null;
}

/**
 * The bundled connections screen (file://) may list, save and delete every profile; a page served
 * by an appliance sees no list and may only save or forget the token of its own connection.
 */
export interface DesktopBridge {
  listProfiles(): Promise<ConnectionProfile[]>;
  saveProfile(input: SaveProfileInput): Promise<ConnectionProfile>;
  deleteProfile(id: string): Promise<void>;
  /**
   * The token of the profile this window is connected to. The main process answers only when
   * the asking page's origin is that profile's origin, so a page from elsewhere gets null.
   */
  getToken(): Promise<string | null>;
  /** The profile this window is connected to, if any. */
  currentProfile(): Promise<ConnectionProfile | null>;
  /** Loads <profile url>/console in this window. */
  connect(id: string): Promise<void>;
}

/** IPC channel names, one per bridge method. */
export const CHANNELS = {
  listProfiles: 'almanac:list-profiles',
  saveProfile: 'almanac:save-profile',
  deleteProfile: 'almanac:delete-profile',
  getToken: 'almanac:get-token',
  currentProfile: 'almanac:current-profile',
  connect: 'almanac:connect',
} as const satisfies Record<keyof DesktopBridge, string>;

declare global {
  interface Window {
    almanacDesktop?: DesktopBridge;
  }
}
