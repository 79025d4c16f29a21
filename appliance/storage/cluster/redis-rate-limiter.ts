/**
 * The cluster-wide RateLimiter on Redis: a token bucket evaluated atomically in Redis by a Lua
 * script (EVALSHA, EVAL on NOSCRIPT), on Redis' clock; while Redis is down each process falls
 * back to its own in-process limiter (core/rate-limit.ts), so a tenant may get up to N × its
 * rate across N collectors.
 */
import { createHash } from 'node:crypto';
import type { RateDecision, RateLimiter } from '../../../core/ports/index.ts';
import { createLocalRateLimiter } from '../../../core/rate-limit.ts';
import type { RedisConnection } from './redis-connection.ts';

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
