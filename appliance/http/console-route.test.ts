import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { CONSOLE_CSP, registerConsole } from './console-route.ts';

async function consoleApp(files: Record<string, string>, ensureBuilt: () => Promise<unknown> = async () => {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'almanac-console-'));
  for (const [name, body] of Object.entries(files)) writeFileSync(path.join(dir, name), body);
  const logs: string[] = [];
  const app = Fastify();
  await registerConsole(app, { distDir: dir, ensureBuilt, log: (m) => logs.push(m) });
  return { app, logs, close: async () => { await app.close(); rmSync(dir, { recursive: true, force: true }); } };
}

test('/console serves the built renderer with a strict CSP; /console redirects to /console/', async () => {
  const c = await consoleApp({ 'index.html': '<!doctype html><title>x</title>', 'app.js': 'console.log(1)', 'console.css': 'body{}', 'build.json': '{}' });
  try {
    const redirect = await c.app.inject('/console');
    assert.equal(redirect.statusCode, 308);
    assert.equal(redirect.headers.location, '/console/');
    const page = await c.app.inject('/console/');
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.equal(page.headers['content-security-policy'], CONSOLE_CSP);
    assert.match(CONSOLE_CSP, /script-src 'self'/);
    assert.doesNotMatch(CONSOLE_CSP, /unsafe-inline|unsafe-eval/);
    assert.equal(page.headers['x-frame-options'], 'DENY');
    const js = await c.app.inject('/console/app.js');
    assert.deepEqual([js.statusCode, js.body], [200, 'console.log(1)']);
    assert.match(String(js.headers['content-type']), /^text\/javascript/);
    assert.equal((await c.app.inject('/console/console.css')).headers['content-type'], 'text/css; charset=utf-8');
  } finally {
    await c.close();
  }
});

test('nothing outside the bundle folder, no build report, no dot-files', async () => {
  const c = await consoleApp({ 'index.html': 'x', 'app.js': 'y', 'build.json': '{}', '.secret': 's' });
  try {
    for (const url of ['/console/build.json', '/console/.secret', '/console/..%2Fpackage.json', '/console/%2e%2e%2fetc', '/console/missing.js']) {
      assert.equal((await c.app.inject(url)).statusCode, 404, url);
    }
  } finally {
    await c.close();
  }
});

test('a missing bundle is a clear 503 saying what to run, even when the build at start failed', async () => {
  const c = await consoleApp({}, async () => { throw new Error('esbuild not installed'); });
  try {
    const res = await c.app.inject('/console/');
    assert.equal(res.statusCode, 503);
    assert.match(res.body, /UI not built: run npm run build:ui/);
    assert.match(c.logs.join('\n'), /could not build the UI \(esbuild not installed\)/);
  } finally {
    await c.close();
  }
});
