#!/usr/bin/env node
/**
 * Builds the browser UIs (SolidJS, compiled by esbuild with babel-preset-solid) into dist/ui/.
 * Runs on `npm install` (the `prepare` script), in the Docker image build, and whenever a UI's
 * sources are newer than its bundle (the appliance calls ensureUiBuilt at start, through ui/bundles.ts).
 *
 *   node ui/build.mjs            build every UI whose entry exists
 *   node ui/build.mjs --check    exit 1 if a bundle is over its gzip budget
 *
 * Each UI: an entry module, an output folder, static files copied next to the bundle, and a
 * budget for its JavaScript gzipped (printed after every build).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, copyFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The UIs. Add one here; paths are relative to the repository root. */
export const UIS = [
  // The admin console's renderer: served at /console and loaded by the Electron shell.
  { name: 'console', entry: 'console/renderer/index.tsx', static: 'console/renderer/static', out: 'dist/ui/console', budgetKb: 250 },
  // The merchant dashboard: the iframe page and the <almanac-dashboard> web component.
  // `plugins`: a module whose default export returns extra esbuild plugins (here: ApexCharts from
  // its sources without the chart types the dashboard never draws, to fit the budget).
  { name: 'dashboard', entry: 'ui/dashboard/index.tsx', static: 'ui/dashboard/static', out: 'dist/ui/dashboard', budgetKb: 150, plugins: 'ui/dashboard/build/apex-lite.mjs' },
  { name: 'dashboard-embed', entry: 'ui/dashboard/embed-element.ts', static: null, out: 'dist/ui/dashboard-embed', budgetKb: 10 },
];

function newestMtime(dir) {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    const st = statSync(p);
    newest = Math.max(newest, st.isDirectory() ? newestMtime(p) : st.mtimeMs);
  }
  return newest;
}

/** True when the UI's bundle is missing or older than any file in its source folder. */
export function isStale(ui) {
  const bundle = path.join(root, ui.out, 'app.js');
  if (!existsSync(bundle)) return true;
  return newestMtime(path.join(root, path.dirname(ui.entry))) > statSync(bundle).mtimeMs;
}

export async function buildUi(ui, { minify = true } = {}) {
  const { build } = await import('esbuild');
  const { solidPlugin } = await import('esbuild-plugin-solid');
  const outdir = path.join(root, ui.out);
  mkdirSync(outdir, { recursive: true });
  await build({
    entryPoints: [path.join(root, ui.entry)],
    outfile: path.join(outdir, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox110', 'safari16'],
    minify,
    sourcemap: false,
    legalComments: 'none',
    define: { 'process.env.NODE_ENV': '"production"' },
    plugins: [solidPlugin(), ...(ui.plugins ? (await import(path.join(root, ui.plugins))).default() : [])],
    logLevel: 'warning',
  });
  if (ui.static) {
    const from = path.join(root, ui.static);
    if (existsSync(from)) for (const name of readdirSync(from)) copyFileSync(path.join(from, name), path.join(outdir, name));
  }
  const js = readFileSync(path.join(outdir, 'app.js'));
  const gzipKb = gzipSync(js, { level: 9 }).length / 1024;
  const report = { name: ui.name, bytes: js.length, gzipKb: Math.round(gzipKb * 10) / 10, budgetKb: ui.budgetKb, withinBudget: gzipKb <= ui.budgetKb };
  writeFileSync(path.join(outdir, 'build.json'), JSON.stringify(report, null, 2));
  return report;
}

/** The staleness check of this process: the console and the dashboard routes both ask at start. */
let checked;

/**
 * Builds the UIs whose entry exists and whose bundle is stale (or all, with force). Without
 * force the check runs once per process; later calls share its outcome.
 */
export function ensureUiBuilt({ force = false, log = console.log } = {}) {
  if (force) return buildStale({ force, log });
  checked ??= buildStale({ force, log });
  return checked;
}

async function buildStale({ force, log }) {
  const reports = [];
  for (const ui of UIS) {
    if (!existsSync(path.join(root, ui.entry))) continue;
    if (!force && !isStale(ui)) continue;
    const r = await buildUi(ui);
    log(`ui ${r.name}: ${(r.bytes / 1024).toFixed(1)} KiB, ${r.gzipKb} KiB gzipped (budget ${r.budgetKb} KiB${r.withinBudget ? '' : ' — OVER BUDGET'})`);
    reports.push(r);
  }
  return reports;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const reports = await ensureUiBuilt({ force: true });
  if (reports.length === 0) console.log('ui: no UI entries yet');
  if (process.argv.includes('--check') && reports.some((r) => !r.withinBudget)) process.exit(1);
}
