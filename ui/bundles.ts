/**
 * What the running appliance needs of the UI build: where the built bundles are, and a rebuild of
 * the stale ones at start (ui/build.mjs, which loads esbuild only when a bundle has to be built).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { UiBuildReport } from './build.mjs';

/** dist/ui: one folder per UI (console, dashboard, dashboard-embed), each with app.js and its static files. */
export const UI_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'ui');

export type UiName = 'console' | 'dashboard' | 'dashboard-embed';

export function uiBundleDir(name: UiName): string {
  return path.join(UI_DIST, name);
}

/** Builds the UIs whose bundle is older than their sources (once per process; see ui/build.mjs). */
export async function ensureUiBuilt(options: { log?: (message: string) => void } = {}): Promise<UiBuildReport[]> {
  const build = await import('./build.mjs');
  return build.ensureUiBuilt(options);
}
