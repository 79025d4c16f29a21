/**
 * Redis pieces of the cluster profile on the native stack: the Lua token bucket, node liveness,
 * and what happens while Redis is down (stops and restarts the redis service).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { takeTokens } from '../../../core/rate-limit.ts';
import { openRedis, createRedisCache, createRedisRateLimiter, createNodeLiveness, type RedisConnection } from './redis.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const url = process.env.ALMANAC_REDIS_URL;

function stack(...args: string[]): void {
  execFileSync('npm', ['run', '--silent', 'stack', '--', ...args], { cwd: root, stdio: 'ignore', timeout: 120_000 });
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Redis cache, rate limiter and liveness (stack)', { skip: !url && 'needs the native stack (ALMANAC_REDIS_URL)' }, () => {
  const prefix = `almanac-test:${randomUUID().slice(0, 8)}:`;
  let redis: RedisConnection;
  before(async () => {
    redis = await openRedis({ url: url!, keyPrefix: prefix });
  });
  after(async () => {
    if (redis.client.status === 'ready') {
      const keys = await redis.client.keys(`${prefix}*`);
      if (keys.length > 0) await redis.client.del(...keys);
    }
    await redis.close();
  });

  test('the Lua token bucket decides like takeTokens (burst, debt, retry-after)', async () => {
    const limiter = createRedisRateLimiter(redis);
    const key = `site-${randomUUID()}`;
    // 10/s, burst 20: twenty single events pass at once, the 21st waits ~100 ms.
    const decisions = [];
    for (let i = 0; i < 21; i++) decisions.push(await limiter.take(key, 1, 10, 20));
    assert.deepEqual(decisions.slice(0, 20).map((d) => d.allowed), new Array(20).fill(true));
    assert.equal(decisions[20].allowed, false);
    assert.ok(decisions[20].retryAfterMs > 0 && decisions[20].retryAfterMs <= 100, `retry after ${decisions[20].retryAfterMs}`);

    // A batch larger than the burst passes on a full bucket and leaves it in debt, as in takeTokens.
    const big = `site-${randomUUID()}`;
    const local = takeTokens(undefined, 0, 500, 100, 200);
    const first = await limiter.take(big, 500, 100, 200);
    assert.equal(first.allowed, local.allowed);
    const second = await limiter.take(big, 1, 100, 200);
    const localSecond = takeTokens(local.state, 0, 1, 100, 200);
    assert.equal(second.allowed, false);
    assert.equal(localSecond.allowed, false);
    // ~3 s of debt (300 tokens at 100/s) plus the token asked for.
    assert.ok(Math.abs(second.retryAfterMs - localSecond.retryAfterMs) < 50, `${second.retryAfterMs} vs ${localSecond.retryAfterMs}`);
    assert.equal(limiter.fallbacks(), 0);
    // The bucket key expires once it would be full again.
    const ttl = await redis.client.pttl(`${prefix}rl:${big}`);
    assert.ok(ttl > 3000 && ttl <= 6100, `ttl ${ttl}`);
  });

  test('the limit is shared by every client of the same Redis', async () => {
    const other = await openRedis({ url: url!, keyPrefix: prefix });
    try {
      const a = createRedisRateLimiter(redis);
      const b = createRedisRateLimiter(other);
      const key = `shared-${randomUUID()}`;
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).take(key, 1, 1, 10)));
      assert.equal(results.filter((r) => r.allowed).length, 10);
    } finally {
      await other.close();
    }
  });

  test('node liveness: heartbeats are listed until they expire', async () => {
    const nodes = createNodeLiveness(redis);
    const a = `node-a-${randomUUID().slice(0, 6)}`;
    const b = `node-b-${randomUUID().slice(0, 6)}`;
    await nodes.heartbeat(a, { roles: ['collector'] }, 60_000);
    await nodes.heartbeat(b, { roles: ['aggregator'] }, 150);
    const live = await nodes.liveNodes();
    assert.deepEqual(live.map((n) => n.id).sort(), [a, b].sort());
    assert.deepEqual(live.find((n) => n.id === a)?.info.roles, ['collector']);
    await waitFor('node b to expire', async () => (await nodes.liveNodes()).length === 1, 3000);
    await nodes.forget(a);
    assert.deepEqual(await nodes.liveNodes(), []);
  });

  test('while Redis is down: cache misses at once, writes are dropped, rate limiting goes local; all back after restart', { timeout: 120_000 }, async (t) => {
    const cache = createRedisCache(redis);
    const limiter = createRedisRateLimiter(redis);
    const key = `k-${randomUUID()}`;
    await cache.set(key, 'cached', 60_000);
    assert.equal(await cache.get(key), 'cached');
    try {
      stack('stop', 'redis');
      await waitFor('the client to notice', () => redis.client.status !== 'ready');
      const started = Date.now();
      assert.equal(await cache.get(key), undefined);
      await cache.set(`${key}-2`, 'x', 60_000);
      await cache.delete(key);
      await assert.rejects(cache.incr(`${key}-n`));
      await assert.rejects(cache.setIfAbsent(`${key}-salt`, 'x', 60_000));
      const elapsed = Date.now() - started;
      assert.ok(elapsed < 500, `cache calls took ${elapsed} ms while Redis was down`);
      t.diagnostic(`five cache calls while Redis was down: ${elapsed} ms`);

      // The local limiter enforces the same bucket in this process: burst 3, then refused.
      const site = `down-${randomUUID()}`;
      const decisions = [];
      for (let i = 0; i < 4; i++) decisions.push(await limiter.take(site, 1, 1, 3));
      assert.deepEqual(decisions.map((d) => d.allowed), [true, true, true, false]);
      assert.ok(decisions[3].retryAfterMs > 0);
      assert.equal(limiter.fallbacks(), 4);
      assert.equal(await redis.ping(200), false);
    } finally {
      stack('start', 'redis');
    }
    await waitFor('the client to reconnect', () => redis.client.status === 'ready', 30_000);
    await cache.set(key, 'again', 60_000);
    assert.equal(await cache.get(key), 'again');
    const before = limiter.fallbacks();
    assert.equal((await limiter.take(`up-${randomUUID()}`, 1, 1, 3)).allowed, true);
    assert.equal(limiter.fallbacks(), before, 'decided in Redis again');
  });
});
