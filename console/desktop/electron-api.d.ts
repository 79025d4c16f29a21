/**
 * The part of Electron's API the desktop console's main process and preload bridge use, so the
 * root `npm run typecheck` checks them on a server install, where Electron is not installed (it
 * lives in this folder's own package). Signatures are copied from Electron 45's electron.d.ts;
 * `npm run console:build` checks console/main and console/preload against the real one whenever
 * this package is installed (tsconfig.json here), so a wrong line here fails that build.
 */
declare module 'electron' {
  interface Event<Params = {}> {
    preventDefault(): void;
  }
  type EventWithParams<Params> = Event & Params;

  interface WebFrameMain {
    readonly url: string;
  }
  interface IpcMainInvokeEvent extends Event {
    readonly senderFrame: WebFrameMain | null;
  }
  interface HandlerDetails {
    url: string;
  }
  type WindowOpenHandlerResponse = { action: 'deny' } | { action: 'allow' };
  interface WebContentsWillNavigateEventParams {
    url: string;
  }

  interface WebContents {
    setWindowOpenHandler(handler: (details: HandlerDetails) => WindowOpenHandlerResponse): void;
    on(
      event: 'will-navigate',
      listener: (details: EventWithParams<WebContentsWillNavigateEventParams>, url: string, isInPlace: boolean, isMainFrame: boolean) => void,
    ): this;
    reload(): void;
  }

  interface WebPreferences {
    preload?: string;
    contextIsolation?: boolean;
    sandbox?: boolean;
    nodeIntegration?: boolean;
  }
  interface BrowserWindowConstructorOptions {
    width?: number;
    height?: number;
    title?: string;
    webPreferences?: WebPreferences;
  }
  class BrowserWindow {
    constructor(options?: BrowserWindowConstructorOptions);
    readonly webContents: WebContents;
    loadURL(url: string): Promise<void>;
    on(event: 'closed', listener: () => void): this;
  }

  interface App {
    whenReady(): Promise<void>;
    getPath(name: 'home' | 'appData' | 'userData' | 'sessionData' | 'temp' | 'logs'): string;
    on(event: 'window-all-closed', listener: () => void): this;
    quit(): void;
  }
  interface IpcMain {
    handle(channel: string, listener: (event: IpcMainInvokeEvent, ...args: any[]) => Promise<any> | any): void;
  }
  interface IpcRenderer {
    invoke(channel: string, ...args: any[]): Promise<any>;
  }
  interface ContextBridge {
    exposeInMainWorld(apiKey: string, api: any): void;
  }
  interface SafeStorage {
    isEncryptionAvailable(): boolean;
    encryptString(plainText: string): Buffer;
    decryptString(encrypted: Buffer): string;
  }
  interface Shell {
    openExternal(url: string): Promise<void>;
  }

  interface MenuItemConstructorOptions {
    click?: () => void;
    role?: 'quit' | 'editMenu' | 'viewMenu' | 'windowMenu' | 'reload' | 'toggleDevTools';
    type?: 'normal' | 'separator' | 'submenu' | 'checkbox' | 'radio';
    label?: string;
    accelerator?: string;
    submenu?: MenuItemConstructorOptions[];
  }
  class Menu {
    static buildFromTemplate(template: MenuItemConstructorOptions[]): Menu;
    static setApplicationMenu(menu: Menu | null): void;
  }

  const app: App;
  const ipcMain: IpcMain;
  const ipcRenderer: IpcRenderer;
  const contextBridge: ContextBridge;
  const safeStorage: SafeStorage;
  const shell: Shell;
}
