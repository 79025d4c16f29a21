/**
 * Regression, cluster profile: the daily salt lived only in Redis (no
 * persistence), so after a Redis restart a collector that had not memoised the salt yet made a
 * new one, and one visitor sending through two collectors counted twice. The salt now lives in
 * the registry (MongoDB), created once per UTC day, and never in Redis.
 *
 * This test runs a Redis of its own (a `redis-server` on a free port in a temp folder), so it
 * can restart it without touching the shared one. Roles are real processes on one namespace:
 * A = collector+admin, B = collector (started after the Redis restart), C = the pipeline and
 * the stats API. The same IP + user agent sends through A, then (Redis restarted) through B,
 * then through A again: one visitor, one visit, three pageviews. Redis holds no salt.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { dayOf } from '../../core/time.ts';
import { getJson, waitFor } from '../support/appliance.ts';
import { freshNamespace, startRoleProcess, type Namespace, type RoleProcess } from '../support/cluster.ts';
import { freePort } from '../support/embedded-process.ts';

const VISITOR = { ip: '198.51.100.23', ua: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15' };

let ns: Namespace | undefined;
const processes: RoleProcess[] = [];
let redis: ChildProcess | undefined;
const dirs: string[] = [];
after(async () => {
  for (const p of processes.reverse()) await p.stop().catch(() => {});
  await stopRedis();
  await ns?.drop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A redis-server of this test's own, without persistence (like the stack's): a restart empties it. */
async function startRedis(port: number, dir: string): Promise<void> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  redis = child;
  const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  const up = await waitFor(() => probe.connect().then(() => probe.ping()).then(() => true, () => false), 10_000, 100);
  probe.disconnect();
  assert.ok(up, `redis-server on port ${port} did not start`);
}
async function stopRedis(): Promise<void> {
  const child = redis;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

async function pageview(collector: RoleProcess, site: { trackingId: string; serverKey: string }, page: string): Promise<void> {
  const res = await fetch(`${collector.url}/api/event`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-almanac-key': site.serverKey, 'x-almanac-client-ip': VISITOR.ip, 'x-almanac-user-agent': VISITOR.ua },
    body: JSON.stringify({ eventId: randomUUID(), trackingId: site.trackingId, url: `https://shop.example${page}`, ts: Date.now() }),
  });
  assert.equal(res.status, 202, `${page}: ${await res.text()}`);
}

test('after a Redis restart and through two collector processes, the same IP + user agent is one visitor and one visit; Redis holds no salt', { timeout: 240_000 }, async (t) => {
  const day = dayOf(Date.now());
  const redisDir = mkdtempSync(path.join(os.tmpdir(), 'almanac-salt-redis-'));
  dirs.push(redisDir);
  const redisPort = await freePort();
  await startRedis(redisPort, redisDir);
  ns = freshNamespace('visitor');
  const env = { ...ns.env, ALMANAC_REDIS_URL: `redis://127.0.0.1:${redisPort}` };

  const a = await startRoleProcess(env, 'collector,admin');
  processes.push(a);
  const c = await startRoleProcess(env, 'archiver,aggregator,query');
  processes.push(c);
  const site = a.credentials();

  await pageview(a, site, '/one');
  await stopRedis();
  await startRedis(redisPort, redisDir);
  const b = await startRoleProcess(env, 'collector');
  processes.push(b);
  await pageview(b, site, '/two');
  await pageview(a, site, '/three');

  if (dayOf(Date.now()) !== day) return t.skip('crossed a UTC midnight: two visitors would be right');
  const url = `${c.url}/api/v1/stats/aggregate?site_id=${site.trackingId}&period=day&metrics=visitors,visits,pageviews`;
  let last: { results?: Record<string, { value: number }> } | undefined;
  const counted = await waitFor(async () => {
    const r = await getJson(url, site.adminApiKey);
    last = r.body;
    return r.status === 200 && r.body.results?.pageviews?.value === 3;
  }, 60_000, 500);
  assert.ok(counted, `3 pageviews counted; last answer ${JSON.stringify(last)}\n--- A ---\n${a.output().slice(-3000)}\n--- B ---\n${b.output().slice(-3000)}`);
  assert.equal(last!.results!.visitors!.value, 1, 'one visitor across the Redis restart and the two collectors');
  assert.equal(last!.results!.visits!.value, 1, 'one visit across the Redis restart and the two collectors');

  const probe = new Redis({ port: redisPort, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  try {
    // The old code kept `<prefix>salt:<YYYY-MM-DD>`; nothing of that shape may remain.
    const keys = (await probe.keys('*')).filter((k) => /(^|:)salt:/.test(k));
    assert.deepEqual(keys, [], 'no salt is kept in Redis');
  } finally {
    probe.disconnect();
  }
});
