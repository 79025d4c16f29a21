/** The rate limiter port: token buckets per tracking ID (embedded: process memory; cluster: Redis). */

export interface RateDecision {
  allowed: boolean;
  /** When not allowed: ms until `cost` tokens will be available. */
  retryAfterMs: number;
}

export interface RateLimiter {
  /** Token bucket per key: `ratePerSec` refill, `burst` capacity; takes `cost` tokens or none. */
  take(key: string, cost: number, ratePerSec: number, burst: number): Promise<RateDecision>;
}
