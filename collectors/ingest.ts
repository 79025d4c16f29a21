/**
 * The intake pipeline shared by /api/event, /api/batch and /px.gif, with no HTTP in it:
 * parsed items + what the request says about its sender → auth, rate limit, per-event
 * validation, in-request dedup, bot drop, enrichment, append, counters → an outcome the
 * route turns into a response.
 */
import { isIP } from 'node:net';
import { reject, type ErrorCode, type Rejection } from '../core/errors.ts';
import type { EnrichedEvent } from '../core/event.ts';
import type { EventLog, RateLimiter } from '../core/ports/index.ts';
import type { AuthResult, Authenticator } from './auth.ts';
import type { CollectorConfig } from './config.ts';
import type { IngestCounters } from './counters.ts';
import { detectBot, type BotReason, type Enricher } from './enrich/index.ts';
import { retryAfterSeconds } from '../core/rate-limit.ts';
import { validateEvent, type ValidEvent } from './validate.ts';

/** What the HTTP layer knows about the sender. */
export interface RequestFacts {
  origin?: string;
  /** X-Almanac-Key. */
  serverKey?: string;
  referer?: string;
  pixel?: boolean;
  /** Client IP as seen by the HTTP layer (socket, or X-Forwarded-For behind a trusted proxy). */
  ip: string;
  userAgent: string;
  /** X-Almanac-Client-IP / X-Almanac-User-Agent: a server-side sender forwarding its visitor's. Only honoured with a valid server key. */
  forwardedIp?: string;
  forwardedUserAgent?: string;
}

export interface ItemRejection {
  index: number;
  eventId: string | null;
  code: ErrorCode;
  message: string;
  detail?: string;
}

export type IngestOutcome =
  | { ok: false; rejection: Rejection; retryAfterSec?: number; allowOrigin?: string }
  | {
      ok: true;
      /** Events appended to the event log. */
      accepted: number;
      /**
       * Valid events taken but not appended, by reason: a known bot's (answered as taken so it
       * does not retry), or a repeat of an eventId earlier in this request (kept once). So
       * accepted + dropped + rejected = the events sent. A resend of an event from an earlier
       * request is not known here: it is accepted, and the aggregator drops it (seen-ID set).
       */
      dropped: Dropped;
      rejected: ItemRejection[];
      bot: BotReason | null;
      allowOrigin?: string;
    };

/** Only the reasons that happened are present. */
export interface Dropped {
  bot?: number;
  repeated?: number;
}

export interface IngestDeps {
  eventLog: Pick<EventLog, 'append'>;
  rateLimiter: RateLimiter;
  auth: Authenticator;
  enricher: Enricher;
  counters: IngestCounters;
  now: () => number;
  /** Told about failures that were answered with 503 (log them). */
  onUnavailable?: (err: unknown, what: string) => void;
}

const TRACKING_ID = /^[A-Za-z0-9_-]{1,64}$/;

export type Ingest = (items: readonly unknown[], facts: RequestFacts) => Promise<IngestOutcome>;

export function createIngest(deps: IngestDeps, config: CollectorConfig): Ingest {
  const limits = { maxEventAgeHours: config.maxEventAgeHours, maxFutureSkewMs: config.maxFutureSkewMs };
  const { counters } = deps;

  function unavailable(trackingId: string, n: number, allowOrigin: string | undefined, err: unknown, what: string): IngestOutcome {
    deps.onUnavailable?.(err, what);
    counters.add(trackingId, 'rejected:unavailable', n);
    return { ok: false, rejection: reject('unavailable', what), retryAfterSec: config.unavailableRetryAfterSec, allowOrigin };
  }

  return async function ingest(items, facts) {
    const receivedAt = deps.now();
    const n = items.length;

    // One tracking ID per request: the first well-formed one. Without any, every item
    // fails validation (trackingId is required), which names the problem per item.
    const trackingId = items.map(trackingIdOf).find((id) => id !== undefined);
    if (trackingId === undefined) {
      const rejected = items.map((item, index) => {
        const r = validateEvent(item, receivedAt, limits);
        // The schema requires the same trackingId pattern, so r is a rejection; stay safe if they drift.
        return itemRejection(index, item, r.ok ? reject('invalid_event', 'trackingId: letters, digits, - and _ (1 to 64)') : r);
      });
      for (const r of rejected) counters.add(null, `rejected:${r.code}`);
      return { ok: true, accepted: 0, dropped: {}, rejected, bot: null };
    }

    let auth: AuthResult;
    try {
      auth = await deps.auth.authenticate({ trackingId, origin: facts.origin, serverKey: facts.serverKey, referer: facts.referer, pixel: facts.pixel });
    } catch (err) {
      return unavailable(trackingId, n, undefined, err, 'registry lookup failed');
    }
    if (!auth.ok) {
      // Made-up IDs stay out of the registry's counters.
      counters.add(auth.code === 'unknown_tracking_id' ? null : trackingId, `rejected:${auth.code}`, n);
      return { ok: false, rejection: auth };
    }
    const { allowOrigin } = auth;

    const rate = auth.tenant.rateLimitPerSec;
    try {
      const d = await deps.rateLimiter.take(`ingest:${trackingId}`, n, rate, rate * config.burstFactor);
      if (!d.allowed) {
        counters.add(trackingId, 'rejected:rate_limited', n);
        return { ok: false, rejection: reject('rate_limited', `${rate} events/s, burst ${rate * config.burstFactor}`), retryAfterSec: retryAfterSeconds(d.retryAfterMs), allowOrigin };
      }
    } catch {
      // Fail open: a limiter outage should not turn away a site's traffic; the limit is
      // protection against floods, not a quota (monthlyEventCap is enforced downstream).
    }

    const rejected: ItemRejection[] = [];
    const valid: ValidEvent[] = [];
    const seen = new Set<string>();
    let repeated = 0;
    items.forEach((item, index) => {
      const id = trackingIdOf(item);
      const r =
        id !== undefined && id !== trackingId
          ? reject('invalid_event', `trackingId: a request carries one tracking ID ("${trackingId}", the first event's); send events of "${id}" in their own request`)
          : validateEvent(item, receivedAt, limits);
      if (!r.ok) rejected.push(itemRejection(index, item, r));
      else if (seen.has(r.event.eventId)) repeated++;
      else {
        seen.add(r.event.eventId);
        valid.push(r.event);
      }
    });
    for (const r of rejected) counters.add(trackingId, `rejected:${r.code}`);
    counters.add(trackingId, 'duplicate', repeated);
    const dropped: Dropped = repeated > 0 ? { repeated } : {};

    // A server-side sender speaks for its visitor only when it forwards the visitor's
    // details; its own UA (curl, node) says nothing about the visitor, so it is not
    // bot-checked unless forwarded.
    const server = auth.mode === 'server';
    const userAgent = (server && facts.forwardedUserAgent) || facts.userAgent;
    const ip = (server && facts.forwardedIp && isIP(facts.forwardedIp) ? facts.forwardedIp : '') || facts.ip;
    const bot = !server || facts.forwardedUserAgent ? detectBot(userAgent) : null;
    if (bot) {
      counters.add(trackingId, `bot:${bot}`, valid.length);
      if (valid.length > 0) dropped.bot = valid.length;
      return { ok: true, accepted: 0, dropped, rejected, bot, allowOrigin };
    }

    if (valid.length > 0) {
      let events: EnrichedEvent[];
      try {
        events = await deps.enricher.enrich(valid, { ip, userAgent, receivedAt });
      } catch (err) {
        return unavailable(trackingId, valid.length, allowOrigin, err, 'daily salt unavailable');
      }
      try {
        await deps.eventLog.append(events);
      } catch (err) {
        return unavailable(trackingId, valid.length, allowOrigin, err, 'event log append failed');
      }
      counters.add(trackingId, 'accepted', valid.length);
    }
    return { ok: true, accepted: valid.length, dropped, rejected, bot: null, allowOrigin };
  };
}

function trackingIdOf(item: unknown): string | undefined {
  if (!item || typeof item !== 'object' || Array.isArray(item)) return undefined;
  const id = (item as { trackingId?: unknown }).trackingId;
  return typeof id === 'string' && TRACKING_ID.test(id) ? id : undefined;
}

function itemRejection(index: number, item: unknown, r: Rejection): ItemRejection {
  const raw = item && typeof item === 'object' ? (item as { eventId?: unknown }).eventId : undefined;
  // Echo the eventId so the sender can match the rejection, but not an arbitrarily long one.
  const eventId = typeof raw === 'string' ? raw.slice(0, 64) : null;
  return { index, eventId, code: r.code, message: r.message, ...(r.detail ? { detail: r.detail } : {}) };
}
