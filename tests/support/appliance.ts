/** Starts a real appliance (embedded profile unless the env says otherwise) on a free port in a temp folder. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../appliance/main/config.ts';
import { startAppliance, type RunningAppliance } from '../../appliance/main/run.ts';
import type { Credentials } from '../../appliance/main/first-start.ts';

export interface TestAppliance {
  app: RunningAppliance;
  url: string;
  credentials: Credentials;
  dataDir: string;
  close(): Promise<void>;
}

export async function startTestAppliance(env: Record<string, string> = {}): Promise<TestAppliance> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'almanac-test-'));
  const config = loadConfig({ ALMANAC_DATA_DIR: dataDir, ALMANAC_PORT: '0', ALMANAC_TRUST_PROXY: 'true', ...env });
  const app = await startAppliance(config);
  const credentials = JSON.parse(readFileSync(path.join(dataDir, 'credentials.json'), 'utf8')) as Credentials;
  return {
    app,
    url: app.url,
    credentials,
    dataDir,
    async close() {
      await app.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns true or `timeoutMs` passes; returns whether it became true. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, everyMs = 200): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function getJson(url: string, apiKey: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${apiKey}` } });
  return { status: res.status, body: await res.json() };
}

/** Runs `worker` over items with at most `concurrency` in flight. */
export async function pool<T>(items: readonly T[], concurrency: number, worker: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) {
      const i = next++;
      await worker(items[i], i);
    }
  }));
}
