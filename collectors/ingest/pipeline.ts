/**
 * The intake shared by /api/event, /api/batch and /px.gif, with no HTTP in it: parsed items and
 * what the request says about its sender go through the steps below, in order, and come out as
 * an outcome the route turns into a response. Each step is a factory `createXStep(deps)` in its
 * own file, returning a named function that hands the request on or ends it (types.ts).
 */
import type { EventLog, RateLimiter } from '../../core/ports/index.ts';
import type { Authenticator } from '../auth.ts';
import type { CollectorConfig } from '../config.ts';
import type { IngestCounters } from '../counters.ts';
import type { Enricher } from '../enrich/index.ts';
import { createAppendStep } from './append.ts';
import { createAuthStep } from './auth.ts';
import { createDropBotsStep } from './bots.ts';
import { createEnrichStep } from './enrich.ts';
import { createIdentifyStep } from './identify.ts';
import { createOriginStep } from './origin.ts';
import { createRateLimitStep } from './rate-limit.ts';
import { createSenderStep } from './sender.ts';
import { makeUnavailable } from './unavailable.ts';
import { createValidateStep } from './validate.ts';
import type { IngestOutcome, Received, RequestFacts, IngestStep, StepResult } from './types.ts';

export type { Dropped, IngestOutcome, ItemRejection, RequestFacts } from './types.ts';

export interface IngestDeps {
  eventLog: Pick<EventLog, 'append'>;
  rateLimiter: RateLimiter;
  auth: Pick<Authenticator, 'admit'>;
  enricher: Enricher;
  counters: IngestCounters;
  now: () => number;
  /** Told about failures that were answered with 503 (log them). */
  onUnavailable?: (err: unknown, what: string) => void;
}

export type Ingest = (items: readonly unknown[], facts: RequestFacts) => Promise<IngestOutcome>;

export function createIngest(deps: IngestDeps, config: CollectorConfig): Ingest {
  const limits = { maxEventAgeHours: config.maxEventAgeHours, maxFutureSkewMs: config.maxFutureSkewMs };
  const unavailable = makeUnavailable(deps, config);
  const steps = pipeline<Received>()
    .pipe(createIdentifyStep(deps, limits)) // the request's one tracking ID
    .pipe(createAuthStep(deps, unavailable)) // known and active, tenant active
    .pipe(createOriginStep(deps)) // this Origin, key or Referer may send for it
    .pipe(createRateLimitStep(deps, config)) // the tenant's rate
    .pipe(createValidateStep(deps, limits)) // each item; repeats in the request kept once
    .pipe(createSenderStep()) // whose IP and user agent
    .pipe(createDropBotsStep(deps)) // known bots: taken, not appended
    .pipe(createEnrichStep(deps, unavailable)) // visitor ID, country, device, source
    .pipe(createAppendStep(deps, unavailable)); // to the event log, then the answer

  return async function ingest(items, facts) {
    const r = await steps.run({ items, facts, receivedAt: deps.now() });
    return 'done' in r ? r.done : r.next;
  };
}

/** Steps run in order; the first that ends the request decides its outcome. */
interface Pipeline<I, O> {
  pipe<N>(step: IngestStep<O, N>): Pipeline<I, N>;
  run(input: I): Promise<StepResult<O>>;
}

function pipeline<I>(): Pipeline<I, I> {
  return chain<I, I>([]);
}

function chain<I, O>(steps: readonly IngestStep<unknown, unknown>[]): Pipeline<I, O> {
  return {
    pipe: <N>(step: IngestStep<O, N>) => chain<I, N>([...steps, step as IngestStep<unknown, unknown>]),
    async run(input) {
      let value: unknown = input;
      for (const step of steps) {
        const result = step(value);
        // Synchronous steps are not awaited: no extra turns between the steps of one request.
        const r = result instanceof Promise ? await result : result;
        if ('done' in r) return r as StepResult<O>;
        value = r.next;
      }
      return { next: value as O };
    },
  };
}
