/**
 * The desktop console's main process, kept thin: one window, a menu, and the saved connection
 * profiles (tokens encrypted with safeStorage). The window shows the appliance's own renderer at
 * <url>/console for the chosen profile, or the bundled renderer (the connections screen) when no
 * profile is chosen yet. Everything else — the screens, the tRPC client — is the renderer's.
 *
 * Build and run: `npm run console:desktop` (see README, "Console").
 */
import { app, BrowserWindow, ipcMain, safeStorage, shell, type IpcMainInvokeEvent } from 'electron';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CHANNELS, type SaveProfileInput } from '../shared/bridge.ts';
import { createProfileStore, isPageOfAppliance, type ProfileStore } from './profiles.ts';
import { buildMenu } from './menu.ts';

/** Where the bundled renderer is, relative to this file once built into dist/desktop/. */
const BUNDLED_RENDERER = path.join(__dirname, '..', 'ui', 'console', 'index.html');

let store: ProfileStore;
let window: BrowserWindow | null = null;
/** The profile the window is connected to (null: the bundled connections screen). */
let currentId: string | null = null;

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 860,
    title: 'Almanac console',
    webPreferences: {
      preload: path.join(__dirname, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
    },
  });
  // Links to other sites open in the system browser, never inside the console window.
  win.webContents.setWindowOpenHandler(({ url }) => {
    void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.webContents.on('will-navigate', (event, url) => {
    const profile = currentId ? store.get(currentId) : undefined;
    const allowed = url.startsWith('file:') || (profile !== undefined && isPageOfAppliance(url, profile.url));
    if (!allowed) {
      event.preventDefault();
      void shell.openExternal(url);
    }
  });
  return win;
}

async function connect(id: string | null): Promise<void> {
  if (!window) return;
  const profile = id ? store.get(id) : undefined;
  currentId = profile ? profile.id : null;
  if (profile) {
    store.markUsed(profile.id);
    await window.loadURL(`${profile.url}/console/`);
  } else {
    await window.loadURL(pathToFileURL(BUNDLED_RENDERER).href);
  }
}

/** The bundled connections screen (file://) manages profiles; an appliance's page only its own token. */
const fromBundled = (event: IpcMainInvokeEvent) => (event.senderFrame?.url ?? '').startsWith('file:');

function registerBridge(): void {
  ipcMain.handle(CHANNELS.listProfiles, (event) => (fromBundled(event) ? store.list() : []));
  ipcMain.handle(CHANNELS.saveProfile, (event, input: SaveProfileInput) => {
    if (!fromBundled(event)) {
      const current = currentId ? store.get(currentId) : undefined;
      const own = current && input.id === current.id && isPageOfAppliance(event.senderFrame?.url ?? '', current.url) && input.url === current.url;
      if (!own) throw new Error('A page of an appliance may only save the token of its own connection.');
    }
    return store.save(input);
  });
  ipcMain.handle(CHANNELS.deleteProfile, (event, id: string) => {
    if (!fromBundled(event)) throw new Error('Connections are deleted from the connections screen.');
    store.delete(id);
  });
  ipcMain.handle(CHANNELS.currentProfile, () => (currentId ? store.get(currentId) ?? null : null));
  ipcMain.handle(CHANNELS.connect, (_e, id: string) => connect(id));
  // The token goes only to a page of the appliance it belongs to.
  ipcMain.handle(CHANNELS.getToken, (event: IpcMainInvokeEvent) => {
    const profile = currentId ? store.get(currentId) : undefined;
    const pageUrl = event.senderFrame?.url ?? '';
    if (!profile || !isPageOfAppliance(pageUrl, profile.url)) return null;
    return store.token(profile.id);
  });
}

app.whenReady().then(async () => {
  store = createProfileStore(path.join(app.getPath('userData'), 'connections.json'), {
    available: () => safeStorage.isEncryptionAvailable(),
    encrypt: (plain) => safeStorage.encryptString(plain),
    decrypt: (encrypted) => safeStorage.decryptString(encrypted),
  });
  registerBridge();
  buildMenu({ connections: () => connect(null), reload: () => window?.webContents.reload() });
  window = createWindow();
  window.on('closed', () => (window = null));
  await connect(store.lastUsed()?.id ?? null);
});

app.on('window-all-closed', () => app.quit());
