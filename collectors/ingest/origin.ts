/**
 * Step: may this sender send for the tracking ID? A server by its X-Almanac-Key, a browser by
 * its Origin (or, for the pixel, its Referer's origin): see authorize() in ../auth.ts. Pure.
 */
import { authorize } from '../auth.ts';
import type { IngestCounters } from '../counters.ts';
import { done, next, type Admitted, type Permitted, type PureIngestStep } from './types.ts';

export function createOriginStep(deps: { counters: Pick<IngestCounters, 'add'> }): PureIngestStep<Admitted, Permitted> {
  return function origin(input) {
    const { facts } = input;
    const r = authorize(input.record, input.tenant, { trackingId: input.trackingId, origin: facts.origin, serverKey: facts.serverKey, referer: facts.referer, pixel: facts.pixel });
    if (!r.ok) {
      deps.counters.add(input.trackingId, `rejected:${r.code}`, input.items.length);
      return done({ ok: false, rejection: r });
    }
    return next({ ...input, mode: r.mode, allowOrigin: r.allowOrigin });
  };
}
