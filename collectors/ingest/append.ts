/**
 * Step: append the enriched events to the event log, and answer. The request is accepted only
 * once the log has them (an append failure answers 503, so the sender retries).
 */
import type { EventLog } from '../../core/ports/index.ts';
import type { IngestCounters } from '../counters.ts';
import type { Unavailable } from './unavailable.ts';
import { done, next, type Enriched, type IngestOutcome, type IngestStep } from './types.ts';

export interface AppendStepDeps {
  eventLog: Pick<EventLog, 'append'>;
  counters: Pick<IngestCounters, 'add'>;
}

export function createAppendStep(deps: AppendStepDeps, unavailable: Unavailable): IngestStep<Enriched, IngestOutcome> {
  return async function append(input) {
    const { trackingId, events, dropped, rejected, allowOrigin } = input;
    const n = input.valid.length; // one enriched event per valid one
    if (n > 0) {
      try {
        await deps.eventLog.append(events);
      } catch (err) {
        return done(unavailable(trackingId, n, allowOrigin, err, 'event log append failed'));
      }
      deps.counters.add(trackingId, 'accepted', n);
    }
    return next({ ok: true, accepted: n, dropped, rejected, bot: null, allowOrigin });
  };
}
