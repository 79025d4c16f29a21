/**
 * Step: the valid events become enriched events (visitor ID from the daily salt, country, device,
 * browser, source: ../enrich/). The salt comes from the registry; when it cannot be had the
 * request answers 503.
 */
import type { Enricher } from '../enrich/index.ts';
import type { Unavailable } from './unavailable.ts';
import { done, next, type Attributed, type Enriched, type IngestStep } from './types.ts';

export function createEnrichStep(deps: { enricher: Enricher }, unavailable: Unavailable): IngestStep<Attributed, Enriched> {
  return async function enrich(input) {
    const { valid } = input;
    if (valid.length === 0) return next({ ...input, events: [] });
    try {
      const events = await deps.enricher.enrich(valid, { ip: input.ip, userAgent: input.userAgent, receivedAt: input.receivedAt });
      return next({ ...input, events });
    } catch (err) {
      return done(unavailable(input.trackingId, valid.length, input.allowOrigin, err, 'daily salt unavailable'));
    }
  };
}
