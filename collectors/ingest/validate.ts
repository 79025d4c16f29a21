/**
 * Step: each item against the event schema and the time limits (../validate.ts), and the
 * request's own repeats: an eventId seen earlier in the same request is kept once (dropped as
 * "repeated"). An item of another tracking ID than the request's is rejected: a request carries
 * one tracking ID.
 */
import { reject } from '../../core/errors.ts';
import type { IngestCounters } from '../counters.ts';
import { validateEvent, type ValidEvent, type ValidationLimits } from '../validate.ts';
import { itemRejection, trackingIdOf } from './items.ts';
import { next, type Dropped, type ItemRejection, type Permitted, type PureIngestStep, type Validated } from './types.ts';

export function createValidateStep(deps: { counters: Pick<IngestCounters, 'add'> }, limits: ValidationLimits): PureIngestStep<Permitted, Validated> {
  return function validate(input) {
    const { trackingId } = input;
    const rejected: ItemRejection[] = [];
    const valid: ValidEvent[] = [];
    const seen = new Set<string>();
    let repeated = 0;
    input.items.forEach((item, index) => {
      const id = trackingIdOf(item);
      const r =
        id !== undefined && id !== trackingId
          ? reject('invalid_event', `trackingId: a request carries one tracking ID ("${trackingId}", the first event's); send events of "${id}" in their own request`)
          : validateEvent(item, input.receivedAt, limits);
      if (!r.ok) rejected.push(itemRejection(index, item, r));
      else if (seen.has(r.event.eventId)) repeated++;
      else {
        seen.add(r.event.eventId);
        valid.push(r.event);
      }
    });
    for (const r of rejected) deps.counters.add(trackingId, `rejected:${r.code}`);
    deps.counters.add(trackingId, 'duplicate', repeated);
    const dropped: Dropped = repeated > 0 ? { repeated } : {};
    return next({ ...input, valid, rejected, dropped });
  };
}
