#!/usr/bin/env node
/**
 * Builds the desktop console's main process and preload bridge (TypeScript → CommonJS, electron
 * left external) into dist/desktop/, and the renderer into dist/ui/console/ (ui/build.mjs).
 * Run the app afterwards with `npx electron dist/desktop/main.cjs` on a machine that has Electron.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { UIS, buildUi } from '../ui/build.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
for (const [entry, out] of [['console/main/main.ts', 'main.cjs'], ['console/preload/preload.ts', 'preload.cjs']]) {
  await build({
    entryPoints: [path.join(root, entry)],
    outfile: path.join(root, 'dist/desktop', out),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    external: ['electron'],
    logLevel: 'warning',
  });
}
const report = await buildUi(UIS.find((ui) => ui.name === 'console'));
console.log(`desktop: dist/desktop/main.cjs, dist/desktop/preload.cjs; renderer ${report.gzipKb} KiB gzipped`);
