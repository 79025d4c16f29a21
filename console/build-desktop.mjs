#!/usr/bin/env node
/**
 * Builds the desktop console's main process and preload bridge (TypeScript → CommonJS, electron
 * left external) into dist/desktop/, and the renderer into dist/ui/console/ (ui/build.mjs).
 *   node console/build-desktop.mjs            build (npm run console:build)
 *   node console/build-desktop.mjs --launch   install the desktop tooling if missing, build, run Electron (npm run console:desktop)
 * Electron is not a dependency of the server: it is the package in console/desktop/, installed
 * only here (npm ci --prefix console/desktop). Once it is installed, the build also checks the main
 * process and the bridge against Electron's own types (the root typecheck uses a subset of them).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { UIS, buildUi } from '../ui/build.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const desktop = path.join(root, 'console/desktop');
const electronBin = path.join(desktop, 'node_modules/.bin/electron');
const launch = process.argv.includes('--launch');

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

if (launch && !existsSync(electronBin)) {
  console.log('desktop: installing the desktop tooling (Electron) into console/desktop/node_modules');
  run('npm', ['ci', '--prefix', desktop, '--no-audit', '--no-fund']);
}

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

if (existsSync(path.join(desktop, 'node_modules/electron/electron.d.ts'))) {
  run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', path.join(desktop, 'tsconfig.json')]);
  console.log("desktop: main process and preload bridge type-check against Electron's own types");
} else {
  console.log('desktop: Electron is not installed, so only the root typecheck (its API subset) checked the main process;');
  console.log('         `npm run console:desktop` (or `npm ci --prefix console/desktop`) installs it');
}

if (launch) {
  if (!existsSync(path.join(desktop, 'node_modules/electron/path.txt'))) {
    console.log("desktop: the first launch downloads Electron's binary (about 100 MB, from GitHub: needs internet access)");
  }
  run(electronBin, [path.join(root, 'dist/desktop/main.cjs')]);
}
