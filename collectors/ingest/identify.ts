/**
 * Step: the request's tracking ID. One tracking ID per request: the first well-formed one.
 * Without any, every item fails validation (trackingId is required), which names the problem
 * per item, and the request ends there (nothing is attributed to a tenant).
 */
import { reject } from '../../core/errors.ts';
import type { IngestCounters } from '../counters.ts';
import { validateEvent, type ValidationLimits } from '../validate.ts';
import { itemRejection, trackingIdOf } from './items.ts';
import { done, next, type Identified, type Received, type PureIngestStep } from './types.ts';

export function createIdentifyStep(deps: { counters: Pick<IngestCounters, 'add'> }, limits: ValidationLimits): PureIngestStep<Received, Identified> {
  return function identify(input) {
    const trackingId = input.items.map(trackingIdOf).find((id) => id !== undefined);
    if (trackingId !== undefined) return next({ ...input, trackingId });
    const rejected = input.items.map((item, index) => {
      const r = validateEvent(item, input.receivedAt, limits);
      // The schema requires the same trackingId pattern, so r is a rejection; stay safe if they drift.
      return itemRejection(index, item, r.ok ? reject('invalid_event', 'trackingId: letters, digits, - and _ (1 to 64)') : r);
    });
    for (const r of rejected) deps.counters.add(null, `rejected:${r.code}`);
    return done({ ok: true, accepted: 0, dropped: {}, rejected, bot: null });
  };
}
