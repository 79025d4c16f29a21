/**
 * Step: the tenant's rate limit, for the whole request (cost = its number of items), with a
 * burst of rate × burstFactor. Fails open: a limiter outage should not turn away a site's
 * traffic; the limit is protection against floods, not a quota (monthlyEventCap is enforced
 * downstream).
 */
import { reject } from '../../core/errors.ts';
import type { RateLimiter } from '../../core/ports/index.ts';
import type { CollectorConfig } from '../config.ts';
import type { IngestCounters } from '../counters.ts';
import { retryAfterSeconds } from '../../core/rate-limit.ts';
import { done, next, type Permitted, type IngestStep } from './types.ts';

export interface RateLimitStepDeps {
  rateLimiter: RateLimiter;
  counters: Pick<IngestCounters, 'add'>;
}

export function createRateLimitStep(deps: RateLimitStepDeps, config: Pick<CollectorConfig, 'burstFactor'>): IngestStep<Permitted, Permitted> {
  return async function rateLimit(input) {
    const { trackingId, allowOrigin } = input;
    const n = input.items.length;
    const rate = input.tenant.rateLimitPerSec;
    try {
      const d = await deps.rateLimiter.take(`ingest:${trackingId}`, n, rate, rate * config.burstFactor);
      if (!d.allowed) {
        deps.counters.add(trackingId, 'rejected:rate_limited', n);
        return done({ ok: false, rejection: reject('rate_limited', `${rate} events/s, burst ${rate * config.burstFactor}`), retryAfterSec: retryAfterSeconds(d.retryAfterMs), allowOrigin });
      }
    } catch {
      // Fail open (see above).
    }
    return next(input);
  };
}
