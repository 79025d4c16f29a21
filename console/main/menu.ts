/** The application menu: connections, reload, the standard edit and view roles. */
import { Menu, type MenuItemConstructorOptions } from 'electron';

export function buildMenu(actions: { connections(): void; reload(): void }): void {
  const template: MenuItemConstructorOptions[] = [
    {
      label: 'Almanac',
      submenu: [
        { label: 'Connections…', accelerator: 'CmdOrCtrl+Shift+C', click: () => actions.connections() },
        { label: 'Reload', accelerator: 'CmdOrCtrl+R', click: () => actions.reload() },
        { type: 'separator' },
        { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    { role: 'viewMenu' },
    { role: 'windowMenu' },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}
