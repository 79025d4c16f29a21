/** The 503 outcome, shared by the steps that depend on storage (registry, salts, event log). */
import { reject } from '../../core/errors.ts';
import type { CollectorConfig } from '../config.ts';
import type { IngestCounters } from '../counters.ts';
import type { IngestOutcome } from './types.ts';

export interface UnavailableDeps {
  counters: Pick<IngestCounters, 'add'>;
  /** Told about failures that were answered with 503 (log them). */
  onUnavailable?: (err: unknown, what: string) => void;
}

export type Unavailable = (trackingId: string, n: number, allowOrigin: string | undefined, err: unknown, what: string) => IngestOutcome;

/** Counts `n` events as rejected:unavailable and answers 503 with Retry-After. */
export function makeUnavailable(deps: UnavailableDeps, config: Pick<CollectorConfig, 'unavailableRetryAfterSec'>): Unavailable {
  return (trackingId, n, allowOrigin, err, what) => {
    deps.onUnavailable?.(err, what);
    deps.counters.add(trackingId, 'rejected:unavailable', n);
    return { ok: false, rejection: reject('unavailable', what), retryAfterSec: config.unavailableRetryAfterSec, allowOrigin };
  };
}
