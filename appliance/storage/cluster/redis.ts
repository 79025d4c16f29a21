/**
 * Redis in the cluster profile (ioredis): the shared Cache, the cluster-wide RateLimiter,
 * node liveness and the registry's change notifications.
 *
 * Redis is an accelerator here, never the source of truth, so its outage must not take requests
 * down with it, nor make them wait:
 * - The client has no offline queue (a command while disconnected fails at once), one retry per
 *   command, a short connect timeout and a command timeout; it reconnects in the background.
 * - Cache: `get` answers undefined and `set`/`delete` do nothing while Redis is down (queries run
 *   uncached). `incr` and `setIfAbsent` reject instead: a made-up counter or a value that is not
 *   the cluster-wide winner would be wrong, not just slow. (The daily salts of visitor IDs are
 *   not kept here: Redis has no persistence, so they live in the registry, see core/salt.ts.)
 * - RateLimiter: a token bucket evaluated atomically in Redis by a Lua script (EVALSHA, EVAL on
 *   NOSCRIPT), on Redis' clock; while Redis is down each process falls back to its own in-process
 *   limiter (core/rate-limit.ts), so a tenant may get up to N × its rate across N collectors.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Cache, RateDecision, RateLimiter } from '../../../core/ports/index.ts';
import { createLocalRateLimiter } from '../../../core/rate-limit.ts';
import type { RegistryInvalidation } from './mongo-registry.ts';
import { withTimeout } from '../../../core/async.ts';

export interface RedisConnectionOptions {
  url: string;
  /** Prefix of every key Almanac writes. Default `almanac:`. */
  keyPrefix?: string;
  /** A command that gets no answer within this time fails (and the limiter falls back). Default 500 ms. */
  commandTimeoutMs?: number;
  /** Connection state changes (down / back). Default: none. */
  log?: (message: string) => void;
}

export interface RedisConnection {
  /** Commands. */
  client: Redis;
  /** Pub/sub (a connection in subscribe mode can run nothing else). */
  subscriber: Redis;
  keyPrefix: string;
  ping(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Connects two clients (commands, pub/sub); rejects if Redis cannot be reached at start. */
export async function openRedis(options: RedisConnectionOptions): Promise<RedisConnection> {
  const log = options.log ?? (() => {});
  const common = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: options.commandTimeoutMs ?? 500,
    // Reconnect forever in the background, at most every 2 s.
    retryStrategy: (times: number) => Math.min(100 * times, 2000),
  };
  const client = new Redis(options.url, { ...common, connectionName: 'almanac' });
  const subscriber = new Redis(options.url, { ...common, connectionName: 'almanac-sub', commandTimeout: undefined });
  let lastError: Error | undefined;
  for (const [name, c] of [['commands', client], ['pub/sub', subscriber]] as const) {
    let down = false;
    // Without an 'error' listener ioredis prints every failed reconnect attempt.
    c.on('error', (err: Error) => {
      lastError = err;
      if (!down) log(`redis (${name}) unavailable: ${err.message}; working without it until it is back`);
      down = true;
    });
    c.on('ready', () => {
      if (down) log(`redis (${name}) is back`);
      down = false;
    });
  }
  try {
    await Promise.all([client.connect(), subscriber.connect()]);
  } catch (err) {
    client.disconnect();
    subscriber.disconnect();
    // connect() rejects with "Connection is closed."; the socket error says why.
    throw lastError ?? err;
  }
  return {
    client,
    subscriber,
    keyPrefix: options.keyPrefix ?? 'almanac:',
    async ping(timeoutMs = 1000) {
      try {
        return (await withTimeout(client.ping(), timeoutMs)) === 'PONG';
      } catch {
        return false;
      }
    },
    async close() {
      await Promise.all([client.quit().catch(() => client.disconnect()), subscriber.quit().catch(() => subscriber.disconnect())]);
    },
  };
}

// ---------------------------------------------------------------- cache

export function createRedisCache(redis: Pick<RedisConnection, 'client' | 'keyPrefix'>): Cache {
  const { client } = redis;
  const prefix = `${redis.keyPrefix}c:`;
  function ttlOf(ttlMs: number): number | undefined {
    if (!(ttlMs > 0)) throw new RangeError(`ttlMs must be a positive number of milliseconds, got ${ttlMs}; use Infinity to keep the entry until it is evicted.`);
    return Number.isFinite(ttlMs) ? Math.max(1, Math.ceil(ttlMs)) : undefined;
  }
  return {
    async get(key) {
      try {
        return (await client.get(prefix + key)) ?? undefined;
      } catch {
        return undefined;
      }
    },
    async set(key, value, ttlMs) {
      const ttl = ttlOf(ttlMs);
      try {
        if (ttl === undefined) await client.set(prefix + key, value);
        else await client.set(prefix + key, value, 'PX', ttl);
      } catch {
        // Down: the value is simply not cached.
      }
    },
    async delete(key) {
      try {
        await client.del(prefix + key);
      } catch {
        // Down: entries expire by their TTL.
      }
    },
    async incr(key) {
      return client.incr(prefix + key);
    },
    async setIfAbsent(key, value, ttlMs) {
      const ttl = ttlOf(ttlMs);
      // One atomic command (Redis >= 7.0): stores unless present, and returns what was there.
      const args: (string | number)[] = [prefix + key, value, ...(ttl === undefined ? [] : ['PX', ttl]), 'NX', 'GET'];
      const previous = (await client.call('SET', ...args)) as string | null;
      return previous ?? value;
    },
    async close() {
      // The connection belongs to the storage, which closes it.
    },
  };
}

// ---------------------------------------------------------------- rate limiter

/**
 * The token bucket of core/rate-limit.ts (takeTokens), in Lua: same refill, same
 * "a request costing more than the burst passes when the bucket holds min(cost, burst) and
 * leaves it in debt", same clock-step guard. The key expires once the bucket would be full
 * again, which is the same as a missing key (a new bucket starts full).
 */
const TOKEN_BUCKET_LUA = `
if redis.replicate_commands then pcall(redis.replicate_commands) end
local cost = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cap = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local s = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(s[1])
local at = tonumber(s[2])
if tokens == nil or at == nil then tokens = cap; at = now end
local elapsed = now - at
if elapsed < 0 then elapsed = 0 end
tokens = math.min(cap, tokens + elapsed * rate / 1000)
local need = math.min(cost, cap)
local allowed = 0
local retry = 0
if tokens >= need then
  tokens = tokens - cost
  allowed = 1
else
  retry = math.ceil((need - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((cap - tokens) * 1000 / rate) + 1000)
return {allowed, retry}
`;
const TOKEN_BUCKET_SHA = createHash('sha1').update(TOKEN_BUCKET_LUA).digest('hex');

export interface RedisRateLimiter extends RateLimiter {
  /** How many decisions were made by the local fallback (Redis down). */
  fallbacks(): number;
}

export function createRedisRateLimiter(
  redis: Pick<RedisConnection, 'client' | 'keyPrefix'>,
  fallback: RateLimiter = createLocalRateLimiter(),
): RedisRateLimiter {
  const { client } = redis;
  const prefix = `${redis.keyPrefix}rl:`;
  let fallbackCount = 0;

  async function evaluate(key: string, cost: number, ratePerSec: number, burst: number): Promise<[number, number]> {
    const args = [1, prefix + key, cost, ratePerSec, Math.max(burst, 1)] as const;
    try {
      return (await client.evalsha(TOKEN_BUCKET_SHA, ...args)) as [number, number];
    } catch (err) {
      if (!String((err as Error).message).includes('NOSCRIPT')) throw err;
      return (await client.eval(TOKEN_BUCKET_LUA, ...args)) as [number, number];
    }
  }

  return {
    async take(key, cost, ratePerSec, burst): Promise<RateDecision> {
      if (!(ratePerSec > 0) || !Number.isFinite(ratePerSec)) return { allowed: true, retryAfterMs: 0 };
      if (client.status === 'ready') {
        try {
          const [allowed, retryAfterMs] = await evaluate(key, cost, ratePerSec, burst);
          return { allowed: allowed === 1, retryAfterMs: Number(retryAfterMs) };
        } catch {
          // Fall through: a Redis problem must not reject or stall ingestion.
        }
      }
      fallbackCount++;
      return fallback.take(key, cost, ratePerSec, burst);
    },
    fallbacks: () => fallbackCount,
  };
}

// ---------------------------------------------------------------- node liveness

export interface LiveNode {
  id: string;
  info: Record<string, unknown>;
}

export interface NodeLiveness {
  /** Marks the node alive for `ttlMs` (default 15 s); call it every few seconds. */
  heartbeat(nodeId: string, info: Record<string, unknown>, ttlMs?: number): Promise<void>;
  /** Nodes whose last heartbeat has not expired. */
  liveNodes(): Promise<LiveNode[]>;
  /** Removes a node at a clean shutdown. */
  forget(nodeId: string): Promise<void>;
}

/** `almanac:nodes:<id>` keys holding the node's info as JSON, refreshed with a TTL. */
export function createNodeLiveness(redis: Pick<RedisConnection, 'client' | 'keyPrefix'>): NodeLiveness {
  const { client } = redis;
  const prefix = `${redis.keyPrefix}nodes:`;
  return {
    async heartbeat(nodeId, info, ttlMs = 15_000) {
      await client.set(prefix + nodeId, JSON.stringify({ ...info, at: Date.now() }), 'PX', Math.max(1, Math.ceil(ttlMs)));
    },
    async liveNodes() {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 200);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      if (keys.length === 0) return [];
      const values = await client.mget(...keys);
      const out: LiveNode[] = [];
      keys.forEach((k, i) => {
        const v = values[i];
        if (v !== null) out.push({ id: k.slice(prefix.length), info: JSON.parse(v) as Record<string, unknown> });
      });
      return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },
    async forget(nodeId) {
      await client.del(prefix + nodeId);
    },
  };
}

// ---------------------------------------------------------------- registry invalidation

export function createRedisInvalidation(redis: Pick<RedisConnection, 'client' | 'subscriber'>, channel: string): RegistryInvalidation {
  const handlers = new Set<(message: string) => void>();
  const ensureSubscribed = () => {
    // Idempotent in Redis. ioredis re-subscribes after a reconnect by itself, but only to channels
    // whose first SUBSCRIBE succeeded, so a failed one is retried whenever the connection is ready.
    if (handlers.size > 0) redis.subscriber.subscribe(channel).catch(() => {});
  };
  redis.subscriber.on('ready', ensureSubscribed);
  redis.subscriber.on('message', (ch: string, message: string) => {
    if (ch === channel) for (const h of handlers) h(message);
  });
  return {
    async publish(message) {
      await redis.client.publish(channel, message);
    },
    subscribe(onMessage) {
      handlers.add(onMessage);
      ensureSubscribed();
      return () => void handlers.delete(onMessage);
    },
  };
}
