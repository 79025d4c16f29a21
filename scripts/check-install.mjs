#!/usr/bin/env node
// Asks npm whether the tracked lock files are exactly what it would write, and whether a server
// install warns on this Node: for the root package and the desktop tooling (console/desktop/), it
// copies package.json and package-lock.json into a temporary folder, runs
// `npm install --package-lock-only --ignore-scripts` there (nothing is downloaded or built, the
// checkout is not touched) and fails if the lock changed. For the root package it also fails on
// an EBADENGINE warning, which is what a newcomer on the oldest supported Node would see.
//   node scripts/check-install.mjs        (run by .ci/run after npm ci)
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const PACKAGES = [
  { dir: '.', warnings: 'fail' },
  // Electron wants Node >= 22.12: its warning on an older Node is expected and says so.
  { dir: 'console/desktop', warnings: 'allow' },
];

let failed = false;
for (const { dir, warnings } of PACKAGES) {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'almanac-lock-'));
  try {
    for (const file of ['package.json', 'package-lock.json']) copyFileSync(path.join(root, dir, file), path.join(tmp, file));
    const r = spawnSync('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: tmp, encoding: 'utf8' });
    const output = `${r.stdout}${r.stderr}`;
    const lock = path.join(dir, 'package-lock.json');
    if (r.status !== 0) {
      console.error(`${lock}: npm install --package-lock-only failed:\n${output}`);
      failed = true;
    } else if (readFileSync(path.join(tmp, 'package-lock.json'), 'utf8') !== readFileSync(path.join(root, lock), 'utf8')) {
      console.error(`${lock} is not what npm install writes: run \`npm install --package-lock-only\` in ${dir} and commit the lock.`);
      failed = true;
    } else if (warnings === 'fail' && /EBADENGINE/.test(output)) {
      console.error(`${dir}: npm warns that a package does not support Node ${process.version}:\n${output}`);
      failed = true;
    } else console.log(`${lock}: in sync${/EBADENGINE/.test(output) ? ` (engine warnings on Node ${process.version} expected here)` : ', no warnings'}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
process.exit(failed ? 1 : 0);
