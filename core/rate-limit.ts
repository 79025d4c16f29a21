/**
 * Token buckets. The tenant's rateLimitPerSec is the refill rate and the capacity ("burst")
 * is burstFactor × rate (2 by default: a site may send two seconds' worth at once, e.g.
 * a queue flushed when a tab regains network).
 */
import type { RateDecision, RateLimiter } from './ports/index.ts';

export interface BucketState {
  tokens: number;
  /** ms of the last refill. */
  at: number;
}

export interface TakeResult extends RateDecision {
  state: BucketState;
}

/**
 * Pure token bucket. A new bucket starts full. A request costing more than the whole burst
 * (a 500-event batch against a 100/s tenant) would otherwise never pass, so a request is
 * let in when the bucket holds min(cost, burst) tokens and then takes all of `cost`: the
 * balance may go negative and the debt is repaid at the refill rate, which keeps the long-run
 * average at `ratePerSec`. A rate that is not a positive number means "no limit".
 */
export function takeTokens(state: BucketState | undefined, now: number, cost: number, ratePerSec: number, burst: number): TakeResult {
  if (!(ratePerSec > 0) || !Number.isFinite(ratePerSec)) {
    return { state: state ?? { tokens: burst, at: now }, allowed: true, retryAfterMs: 0 };
  }
  const cap = Math.max(burst, 1);
  const prev = state ?? { tokens: cap, at: now };
  // A clock that steps back must not mint tokens or freeze the bucket.
  const elapsed = Math.max(0, now - prev.at);
  const tokens = Math.min(cap, prev.tokens + (elapsed * ratePerSec) / 1000);
  const need = Math.min(cost, cap);
  if (tokens >= need) return { state: { tokens: tokens - cost, at: now }, allowed: true, retryAfterMs: 0 };
  return { state: { tokens, at: now }, allowed: false, retryAfterMs: Math.ceil(((need - tokens) * 1000) / ratePerSec) };
}

export interface LocalRateLimiterOptions {
  /** Most buckets kept; the least recently used is dropped (and so starts full again). Default 10 000. */
  maxKeys?: number;
  now?: () => number;
}

/**
 * In-process RateLimiter for the embedded profile (and a fallback). In a cluster each
 * collector process would get the full rate, so the cluster profile passes a shared one.
 */
export function createLocalRateLimiter(options: LocalRateLimiterOptions = {}): RateLimiter {
  const maxKeys = options.maxKeys ?? 10_000;
  const now = options.now ?? Date.now;
  // A Map keeps insertion order: re-inserting on use makes the first key the least recent.
  const buckets = new Map<string, BucketState>();
  return {
    async take(key, cost, ratePerSec, burst) {
      const r = takeTokens(buckets.get(key), now(), cost, ratePerSec, burst);
      buckets.delete(key);
      buckets.set(key, r.state);
      if (buckets.size > maxKeys) buckets.delete(buckets.keys().next().value as string);
      return { allowed: r.allowed, retryAfterMs: r.retryAfterMs };
    },
  };
}

/** Retry-After header value: whole seconds, rounded up, at least 1. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
