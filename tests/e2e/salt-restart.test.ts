/**
 * Regression: every restart gave returning visitors a new identity. The daily
 * salt lived only in the in-process cache, so the same IP and user agent got a new visitor ID
 * after a kill -9 or a graceful restart: one visitor across 2 restarts counted as 3 visitors and
 * 3 visits. The salt now lives in the registry (SQLite), created once per UTC day.
 *
 * The embedded appliance runs as a real process on one data folder: a pageview, SIGKILL, start,
 * a pageview, SIGINT, start, a pageview. The stats API must show 1 visitor, 1 visit, 3 pageviews.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { dayOf } from '../../core/time.ts';
import { getJson, waitFor } from '../support/appliance.ts';
import { embeddedProcess, freePort, type EmbeddedProcess } from '../support/embedded-process.ts';

const VISITOR = { ip: '203.0.113.7', ua: 'Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0' };

const dirs: string[] = [];
const processes: EmbeddedProcess[] = [];
after(async () => {
  for (const p of processes) await p.stop('SIGKILL').catch(() => {});
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** One pageview of VISITOR, sent by a server forwarding the visitor's IP and user agent. */
async function pageview(app: EmbeddedProcess, site: { id: string; serverKey: string }, page: string): Promise<void> {
  const res = await fetch(`${app.url}/api/event`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-almanac-key': site.serverKey, 'x-almanac-client-ip': VISITOR.ip, 'x-almanac-user-agent': VISITOR.ua },
    body: JSON.stringify({ eventId: randomUUID(), trackingId: site.id, url: `https://shop.example${page}`, ts: Date.now() }),
  });
  assert.equal(res.status, 202, `${page}: ${await res.text()}\n${app.tail()}`);
}

test('the same IP + user agent before and after SIGKILL and after a graceful SIGINT restart is one visitor and one visit', { timeout: 180_000 }, async (t) => {
  const day = dayOf(Date.now());
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'almanac-salt-'));
  dirs.push(dataDir);
  const app = embeddedProcess(dataDir, await freePort());
  processes.push(app);

  await app.start();
  const { adminApiKey } = app.credentials();
  const tenant = JSON.parse(app.cli(['tenants', 'create', '--name', 'salt'])) as { id: string };
  const site = JSON.parse(app.cli(['tracking-ids', 'create', '--tenant', tenant.id, '--name', 'salt', '--origins', '*'])) as { id: string; serverKey: string };

  await pageview(app, site, '/one');
  await app.stop('SIGKILL');
  await app.start();
  await pageview(app, site, '/two');
  const graceful = await app.stop('SIGINT');
  assert.equal(graceful.code, 0, `graceful stop exits 0:\n${app.tail()}`);
  await app.start();
  await pageview(app, site, '/three');

  if (dayOf(Date.now()) !== day) return t.skip('crossed a UTC midnight: two visitors would be right');
  const url = `${app.url}/api/v1/stats/aggregate?site_id=${site.id}&period=day&metrics=visitors,visits,pageviews`;
  let last: unknown;
  const counted = await waitFor(async () => {
    const r = await getJson(url, adminApiKey);
    last = r.body;
    return r.status === 200 && r.body.results?.pageviews?.value === 3;
  }, 30_000);
  assert.ok(counted, `3 pageviews counted; last answer ${JSON.stringify(last)}\n${app.tail()}`);
  const { results } = last as { results: Record<string, { value: number }> };
  assert.equal(results.visitors!.value, 1, 'one visitor across the restarts');
  assert.equal(results.visits!.value, 1, 'one visit across the restarts');
});
