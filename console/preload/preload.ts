/**
 * The preload bridge: exposes `window.almanacDesktop` (see console/shared/bridge.ts) to the
 * renderer through contextBridge; each method is one IPC call to the main process.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { CHANNELS, type DesktopBridge } from '../shared/bridge.ts';

const bridge: DesktopBridge = {
  listProfiles: () => ipcRenderer.invoke(CHANNELS.listProfiles),
  saveProfile: (input) => ipcRenderer.invoke(CHANNELS.saveProfile, input),
  deleteProfile: (id) => ipcRenderer.invoke(CHANNELS.deleteProfile, id),
  getToken: () => ipcRenderer.invoke(CHANNELS.getToken),
  currentProfile: () => ipcRenderer.invoke(CHANNELS.currentProfile),
  connect: (id) => ipcRenderer.invoke(CHANNELS.connect, id),
};

contextBridge.exposeInMainWorld('almanacDesktop', bridge);
