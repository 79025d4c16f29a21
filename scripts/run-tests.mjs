#!/usr/bin/env node
// Runs the test files with node's test runner (TypeScript through tsx).
//   node scripts/run-tests.mjs            unit + embedded end-to-end + (when the stack is up) stack tests
//   node scripts/run-tests.mjs unit       *.test.ts except stack and browser tests
//   node scripts/run-tests.mjs stack      *.stack.test.ts only (needs `npm run stack -- up`)
//   node scripts/run-tests.mjs browser    *.browser.test.ts only (needs /usr/bin/chromium)
// A *.stack.browser.test.ts needs both: it runs with the stack tests and the browser tests.
// Under CI (CI=true) the stack tests are required: a missing stack fails the run instead of skipping.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const kind = process.argv[2] ?? 'all';
const SKIP_DIRS = new Set(['node_modules', '.git', '.stack', '.data', 'dist', 'artifacts']);

function find(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (SKIP_DIRS.has(name)) continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.ts')) out.push(path.relative(root, p));
  }
  return out;
}

const all = find(root).sort();
const isStackBrowser = (f) => f.endsWith('.stack.browser.test.ts');
const isStack = (f) => f.endsWith('.stack.test.ts') || isStackBrowser(f);
const isBrowser = (f) => f.endsWith('.browser.test.ts');
const stackEnvFile = path.join(root, '.stack', 'env');
const stackUp = existsSync(stackEnvFile);

let files;
if (kind === 'unit') files = all.filter((f) => !isStack(f) && !isBrowser(f));
else if (kind === 'stack') files = all.filter(isStack);
else if (kind === 'browser') files = all.filter(isBrowser);
else {
  files = all.filter((f) => !isStack(f) && !isBrowser(f));
  const stackFiles = all.filter((f) => isStack(f) && !isBrowser(f));
  if (stackFiles.length > 0) {
    if (stackUp) files.push(...stackFiles);
    else if (process.env.CI === 'true') {
      console.error(`The stack tests need the native services: run \`npm run stack -- up\` first (${stackFiles.length} files).`);
      process.exit(1);
    } else console.log(`note: ${stackFiles.length} stack test files skipped; start the services with \`npm run stack -- up\` to run them.`);
  }
  const browserFiles = all.filter((f) => isBrowser(f) && (!isStackBrowser(f) || stackUp));
  const stackBrowserSkipped = all.filter((f) => isStackBrowser(f) && !stackUp).length;
  if (stackBrowserSkipped > 0) console.log(`note: ${stackBrowserSkipped} stack browser test files skipped; start the services with \`npm run stack -- up\` to run them.`);
  if (browserFiles.length > 0) {
    if (existsSync('/usr/bin/chromium')) files.push(...browserFiles);
    else if (process.env.CI === 'true') {
      console.error('The browser tests need Debian\'s chromium (/usr/bin/chromium): apt-get install chromium.');
      process.exit(1);
    } else console.log(`note: ${browserFiles.length} browser test files skipped; apt-get install chromium to run them.`);
  }
}

if (files.length === 0) {
  console.error(`No test files for "${kind}".`);
  process.exit(1);
}

// Stack connection settings written by `npm run stack -- up`.
const env = { ...process.env };
if (stackUp) {
  for (const line of readFileSync(stackEnvFile, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m && env[m[1]] === undefined) env[m[1]] = m[2];
  }
}

// --test-timeout bounds each file as well as each test in it: 25 min, so a test that declares a
// longer timeout of its own (the cluster crash test: 20 min, ~18 min measured on a loaded 2-core
// machine) is not cut off by its file's.
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=1500000', ...files],
  { cwd: root, stdio: 'inherit', env },
);
process.exit(result.status ?? 1);
