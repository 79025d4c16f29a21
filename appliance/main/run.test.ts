import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from './config.ts';
import { startAppliance } from './run.ts';

async function bannerOf(env: Record<string, string>): Promise<{ banner: string; url: string }> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'almanac-banner-'));
  const lines: string[] = [];
  const app = await startAppliance(loadConfig({ ALMANAC_DATA_DIR: dataDir, ALMANAC_PORT: '0', ...env }), { log: (m) => lines.push(m) });
  try {
    return { banner: lines.join('\n'), url: app.url };
  } finally {
    await app.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// Regression: the archiver and aggregator workers of a supervised node (ALMANAC_PORT=0, no HTTP
// traffic) printed "collector: http://127.0.0.1:0/api/event".
test('a process without the collector and query roles prints no collector or stats URL, and none on port 0', async () => {
  const { banner } = await bannerOf({ ALMANAC_ROLES: 'archiver,aggregator', ALMANAC_PIPELINE_THREAD: 'false' });
  assert.doesNotMatch(banner, /collector:|stats API:/);
  assert.doesNotMatch(banner, /:0\//);
  assert.match(banner, /roles: archiver, aggregator/);
});

test('on port 0 the collector URL is the port actually listened on', async () => {
  const { banner, url } = await bannerOf({ ALMANAC_ROLES: 'collector,query' });
  assert.doesNotMatch(banner, /:0\//);
  assert.ok(banner.includes(`collector:  ${url}/api/event`), banner);
});
