/**
 * Step: the tracking ID is known and active, and so is its tenant (a registry lookup, memoised
 * by the Authenticator). A registry failure answers 503; made-up IDs stay out of the registry's
 * counters.
 */
import type { Authenticator } from '../auth.ts';
import type { IngestCounters } from '../counters.ts';
import type { Unavailable } from './unavailable.ts';
import { done, next, type Admitted, type Identified, type IngestStep } from './types.ts';

export interface AuthStepDeps {
  auth: Pick<Authenticator, 'admit'>;
  counters: Pick<IngestCounters, 'add'>;
}

export function createAuthStep(deps: AuthStepDeps, unavailable: Unavailable): IngestStep<Identified, Admitted> {
  return async function auth(input) {
    const { trackingId, items } = input;
    let admitted: Awaited<ReturnType<Authenticator['admit']>>;
    try {
      admitted = await deps.auth.admit(trackingId);
    } catch (err) {
      return done(unavailable(trackingId, items.length, undefined, err, 'registry lookup failed'));
    }
    if (!admitted.ok) {
      deps.counters.add(admitted.code === 'unknown_tracking_id' ? null : trackingId, `rejected:${admitted.code}`, items.length);
      return done({ ok: false, rejection: admitted });
    }
    return next({ ...input, record: admitted.trackingId, tenant: admitted.tenant });
  };
}
