#!/usr/bin/env node
// Moves modules and rewrites every import of them, so a move is one re-runnable command:
//   node scripts/move-modules.mjs old/path.ts=new/path.ts [more old=new ...]
// For each pair: moves the file when it is still at the old path (a moved file's own relative
// imports are re-aimed from its new place), then rewrites every relative import, export-from and
// dynamic import in the tree that points at the old path, and every mention of the old
// repo-relative path in comments and docs. Running it again after merging a branch that still
// uses the old paths fixes that branch's files; files already rewritten are left as they are.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const SKIP_DIRS = new Set(['node_modules', '.git', '.stack', '.data', 'dist', 'artifacts']);
const CODE = /\.(ts|tsx|mts|mjs|js|cjs)$/;
const TEXT = /\.(ts|tsx|mts|mjs|js|cjs|md|json|yml|yaml|sh)$/;

const moves = new Map(process.argv.slice(2).map((arg) => {
  const [from, to] = arg.split('=');
  if (!from || !to) throw new Error(`Expected old=new, got "${arg}".`);
  return [path.normalize(from), path.normalize(to)];
}));
if (moves.size === 0) {
  console.error('usage: node scripts/move-modules.mjs old/path.ts=new/path.ts ...');
  process.exit(2);
}

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (SKIP_DIRS.has(name)) continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (TEXT.test(name)) out.push(path.relative(root, p));
  }
  return out;
}

// 1. Move the files still at their old place; remember where each moved file came from.
const cameFrom = new Map();
for (const [from, to] of moves) {
  if (!existsSync(path.join(root, from))) continue;
  if (existsSync(path.join(root, to))) throw new Error(`${to} exists already: not moving ${from} onto it.`);
  mkdirSync(path.dirname(path.join(root, to)), { recursive: true });
  renameSync(path.join(root, from), path.join(root, to));
  cameFrom.set(to, from);
  console.log(`moved ${from} -> ${to}`);
}

// 2. Rewrite imports (resolved against where the file was when they were written) and mentions.
const SPEC = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)(['"])(\.{1,2}\/[^'"]+)\2/g;
const relative = (fromFile, target) => {
  const r = path.relative(path.dirname(fromFile), target).split(path.sep).join('/');
  return r.startsWith('.') ? r : `./${r}`;
};
const mention = [...moves].map(([from, to]) => [new RegExp(`(?<![\\w./-])${from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w/-])`, 'g'), to]);

let changed = 0;
for (const file of walk(root)) {
  if (file === path.relative(root, new URL(import.meta.url).pathname)) continue;
  const wasAt = cameFrom.get(file) ?? file;
  const before = readFileSync(path.join(root, file), 'utf8');
  let text = before;
  if (CODE.test(file)) {
    text = text.replace(SPEC, (all, lead, q, spec) => {
      const target = path.normalize(path.join(path.dirname(wasAt), spec));
      const now = moves.get(target) ?? (existsSync(path.join(root, target)) || wasAt === file ? target : undefined);
      if (now === undefined) return all; // a path that resolved against the old place only: leave it
      const next = relative(file, now);
      return next === spec ? all : `${lead}${q}${next}${q}`;
    });
  }
  for (const [re, to] of mention) text = text.replace(re, to);
  if (text !== before) {
    writeFileSync(path.join(root, file), text);
    changed++;
  }
}
console.log(`${changed} files rewritten`);
