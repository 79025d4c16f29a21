/**
 * The import-direction check (scripts/check-imports.mjs) on small trees written for each test:
 * it fails with a message naming the file, the import and the rule, or the cycle's path, and
 * passes on a clean tree.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const script = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../scripts/check-imports.mjs');

function withTree(files: Record<string, string>, run: (root: string) => void): void {
  const root = mkdtempSync(path.join(tmpdir(), 'almanac-imports-'));
  try {
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      writeFileSync(path.join(root, file), text);
    }
    run(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function checkTree(root: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [script, '--root', root], { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const clean: Record<string, string> = {
  'core/event.ts': "export type Event = { id: string };\n",
  'core/time.ts': "import type { Event } from './event.ts';\nexport const at = (e: Event) => e.id;\n",
  'pipeline/aggregator.ts': "import { at } from '../core/time.ts';\nimport fs from 'node:fs';\nexport const run = () => [at, fs];\n",
  'query/service.ts': "export const load = () => import('../core/event.ts');\n",
  'appliance/main.ts': "import { run } from '../pipeline/aggregator.ts';\nimport { load } from '../query/service.ts';\nexport { run, load };\n",
  // Tests may import anything, test support included.
  'pipeline/aggregator.test.ts': "import { run } from './aggregator.ts';\nimport { main } from '../appliance/main.ts';\nimport { fake } from '../tests/support/fakes.ts';\nvoid [run, main, fake];\n",
  'tests/support/fakes.ts': "export const fake = 1;\n",
};

test('a clean tree passes', () => {
  withTree(clean, (root) => {
    const r = checkTree(root);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /imports ok: 7 files/);
  });
});

test('a wrong import fails, naming the file, the import and the rule', () => {
  withTree({ ...clean, 'query/metrics.ts': "export { run } from '../pipeline/aggregator.ts';\n" }, (root) => {
    const r = checkTree(root);
    assert.equal(r.status, 1);
    assert.match(r.out, /wrong direction: query\/metrics\.ts imports pipeline\/aggregator\.ts: query\/ depends on core\/ only/);
  });
  withTree({ ...clean, 'core/time.ts': "import type { run } from '../pipeline/aggregator.ts';\nexport type R = typeof run;\n" }, (root) => {
    const r = checkTree(root);
    assert.equal(r.status, 1);
    assert.match(r.out, /core\/time\.ts imports pipeline\/aggregator\.ts: core\/ is the pure centre/);
  });
});

test('production code importing test support fails; a test importing it passes', () => {
  withTree({ ...clean, 'collectors/http.ts': "import { fake } from './test-support.ts';\nexport const f = fake;\n", 'collectors/test-support.ts': 'export const fake = 1;\n' }, (root) => {
    const r = checkTree(root);
    assert.equal(r.status, 1);
    assert.match(r.out, /collectors\/http\.ts imports collectors\/test-support\.ts: production code imports test, bench or tool code/);
  });
});

test('a cycle fails with its path, type-only imports included', () => {
  withTree({
    ...clean,
    'pipeline/replay/runner.ts': "import type { run } from '../aggregator.ts';\nexport type R = typeof run;\n",
    'pipeline/aggregator.ts': "import type { R } from './replay/runner.ts';\nexport const run = (r?: R) => r;\n",
  }, (root) => {
    const r = checkTree(root);
    assert.equal(r.status, 1);
    assert.match(r.out, /import cycle: pipeline\/aggregator\.ts -> pipeline\/replay\/runner\.ts -> pipeline\/aggregator\.ts/);
  });
});
