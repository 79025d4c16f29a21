#!/usr/bin/env node
// The import-direction check, run by `npm test`:
//   node scripts/check-imports.mjs [--root DIR]
// Reads every module's imports (static, type-only, export-from, dynamic import(), require) with
// the TypeScript compiler's pre-processor, resolves the relative ones, and checks the rules below.
// Prints every violation with the rule it breaks and exits 1, or prints a one-line summary.

import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

// ---------------------------------------------------------------- the rules (edit here)

/**
 * Production code of a folder may import only what `may` lists (repo-relative folder prefixes),
 * or must not import what `mayNot` lists. Test and bench code (see isTestCode) is exempt: a test
 * may open the real storage to test a pipeline stage against it.
 */
const DIRECTIONS = [
  { from: 'core/', may: ['core/'], why: 'core/ is the pure centre: it imports nothing else of the project' },
  { from: 'collectors/', mayNot: ['appliance/', 'control/', 'ui/', 'pipeline/', 'query/'], why: 'collectors/ depends on core/ only' },
  { from: 'pipeline/', mayNot: ['appliance/', 'control/', 'ui/', 'collectors/', 'query/'], why: 'pipeline/ depends on core/ only' },
  { from: 'query/', mayNot: ['appliance/', 'control/', 'ui/', 'collectors/', 'pipeline/'], why: 'query/ depends on core/ only' },
  { from: 'control/', mayNot: ['appliance/', 'ui/', 'collectors/'], why: 'control/ holds the operations; the doors (appliance/) call it, never the other way' },
  { from: 'ui/', mayNot: ['appliance/', 'control/', 'collectors/', 'pipeline/', 'query/'], why: 'ui/ is the browser apps and their build: it talks to the appliance over HTTP only' },
];

/** Folders of test, bench and tool code (scripts/); everything else is production code. */
const NON_SOURCE_FOLDERS = ['tests/', 'bench/', 'scripts/'];

/** Test and bench code by name, wherever it sits. */
const TEST_CODE_NAMES = [/\.test\.[cm]?[jt]sx?$/, /(^|[-.])test-support\.[cm]?[jt]s$/, /(^|[-.])contract\.[cm]?[jt]s$/, /(^|[-.])bench\.[cm]?[jt]s$/];

/**
 * Known violations, each removed by the slice named beside it. The check fails on any other
 * violation, and also on an entry here that no longer happens (so the list only shrinks).
 * Keys: `from` -> `to`, repo-relative.
 */
const ALLOWED = [
  // Empty: every exception is gone. An entry here needs its reason and who removes it.
];

// ---------------------------------------------------------------- the check

const SKIP_DIRS = new Set(['node_modules', '.git', '.stack', '.data', 'dist', 'artifacts', 'coverage']);
const CODE = /\.(ts|tsx|mts|cts|mjs|cjs|js)$/;

function parseArgs(argv) {
  const i = argv.indexOf('--root');
  return { root: path.resolve(i >= 0 ? argv[i + 1] : path.join(path.dirname(new URL(import.meta.url).pathname), '..')) };
}

function walk(root, dir = root, out = []) {
  for (const name of readdirSync(dir)) {
    if (SKIP_DIRS.has(name) || name.endsWith('.d.ts')) continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(root, p, out);
    else if (CODE.test(name)) out.push(path.relative(root, p).split(path.sep).join('/'));
  }
  return out.sort();
}

export function isTestCode(file) {
  return NON_SOURCE_FOLDERS.some((f) => file.startsWith(f)) || TEST_CODE_NAMES.some((re) => re.test(path.posix.basename(file)));
}

/** The project file a relative specifier names, or undefined (a package, or a file that is not there). */
function resolve(root, fromFile, spec) {
  if (!spec.startsWith('./') && !spec.startsWith('../')) return undefined;
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(fromFile), spec));
  const candidates = [base, base.replace(/\.js$/, '.ts'), base.replace(/\.js$/, '.tsx'), `${base}.ts`, `${base}/index.ts`, `${base}/index.js`];
  return candidates.find((c) => existsSync(path.join(root, c)) && statSync(path.join(root, c)).isFile());
}

export function readImports(root, files) {
  const graph = new Map();
  for (const file of files) {
    const info = ts.preProcessFile(readFileSync(path.join(root, file), 'utf8'), true, true);
    const targets = new Set();
    for (const ref of info.importedFiles) {
      const target = resolve(root, file, ref.fileName);
      if (target) targets.add(target);
    }
    graph.set(file, [...targets].sort());
  }
  return graph;
}

function directionProblem(from, to) {
  if (isTestCode(from)) return undefined;
  if (isTestCode(to)) return `production code imports test, bench or tool code (${to}); move what both need into the source tree`;
  for (const rule of DIRECTIONS) {
    if (!from.startsWith(rule.from)) continue;
    if (rule.may && !rule.may.some((p) => to.startsWith(p))) return rule.why;
    if (rule.mayNot && rule.mayNot.some((p) => to.startsWith(p))) return rule.why;
  }
  return undefined;
}

/** Every cycle's path, one per strongly connected component (Tarjan), as a list of files ending where it started. */
export function findCycles(graph) {
  let index = 0;
  const stack = [];
  const state = new Map();
  const cycles = [];
  const strong = (v) => {
    state.set(v, { index, low: index, onStack: true });
    index++;
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!state.has(w)) {
        strong(w);
        state.get(v).low = Math.min(state.get(v).low, state.get(w).low);
      } else if (state.get(w).onStack) state.get(v).low = Math.min(state.get(v).low, state.get(w).index);
    }
    if (state.get(v).low !== state.get(v).index) return;
    const component = [];
    let w;
    do {
      w = stack.pop();
      state.get(w).onStack = false;
      component.push(w);
    } while (w !== v);
    const self = (graph.get(v) ?? []).includes(v);
    if (component.length > 1 || self) cycles.push(cyclePath(graph, new Set(component)));
  };
  for (const v of graph.keys()) if (!state.has(v)) strong(v);
  return cycles;
}

/** A shortest cycle through the component's first file (breadth-first inside the component). */
function cyclePath(graph, component) {
  const start = [...component].sort()[0];
  const previous = new Map([[start, null]]);
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift();
    for (const w of graph.get(v) ?? []) {
      if (!component.has(w)) continue;
      if (w === start) {
        const back = [];
        for (let u = v; u !== null; u = previous.get(u)) back.push(u);
        return [...back.reverse(), start];
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

export function check(root) {
  const files = walk(root);
  const graph = readImports(root, files);
  const problems = [];
  const allowedHit = new Set();
  for (const [from, targets] of graph) {
    for (const to of targets) {
      const why = directionProblem(from, to);
      if (!why) continue;
      const allowed = ALLOWED.findIndex((a) => a.from === from && a.to === to);
      if (allowed >= 0) allowedHit.add(allowed);
      else problems.push(`wrong direction: ${from} imports ${to}: ${why}`);
    }
  }
  for (const cycle of findCycles(graph)) problems.push(`import cycle: ${cycle.join(' -> ')}`);
  if (root === parseArgs([]).root) {
    ALLOWED.forEach((a, i) => {
      if (!allowedHit.has(i)) problems.push(`allow-list entry no longer needed: ${a.from} -> ${a.to} (${a.slice}); delete it from scripts/check-imports.mjs`);
    });
  }
  return { files: files.length, imports: [...graph.values()].reduce((n, t) => n + t.length, 0), allowed: allowedHit.size, problems };
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('check-imports.mjs')) {
  const { root } = parseArgs(process.argv.slice(2));
  const result = check(root);
  if (result.problems.length > 0) {
    console.error(`Import check failed (${result.problems.length}):`);
    for (const p of result.problems) console.error(`  ${p}`);
    process.exit(1);
  }
  console.log(`imports ok: ${result.files} files, ${result.imports} project imports, ${result.allowed} allowed exceptions left`);
}
