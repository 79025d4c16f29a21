/**
 * Sessionization as pure functions over SessionState.
 *
 * A session is fully determined by the set of its events: start/end are the min/max ts (ties
 * broken by eventId), entry/exit pages and the session-level dimensions come from the first
 * and last events. So extending a session with its events in any order, or merging two
 * sessions, gives the same state as building it from the sorted events.
 */
import type { EnrichedEvent } from '../../core/event.ts';
import type { Dimension, SessionState } from '../../core/rollup/model.ts';
import { label } from '../../core/rollup/labels.ts';

/** Map key of the one session kept per visitor. */
export function sessionKey(trackingId: string, visitorId: string): string {
  return `${trackingId}\u0000${visitorId}`;
}

/**
 * The visits of one visitor that an event at `ts` joins: those with ts in
 * [start − timeout, end + timeout] (both ends inclusive: a gap of exactly the timeout still
 * continues the visit). `visits` is sorted by start with gaps of more than the timeout between
 * them (what sessionising the visitor's events gives), so the joined ones are the run
 * [from, to): none (a new visit goes in at `from`), one (the event extends it) or two (the
 * event bridges them into one). Which visits exist is thereby a function of the set of events,
 * whatever order they arrive in: an event only ever extends or merges visits, never splits one.
 */
export function joinedVisits(visits: readonly SessionState[], ts: number, timeoutMs: number): { from: number; to: number } {
  let from = 0;
  while (from < visits.length && visits[from].end + timeoutMs < ts) from++;
  let to = from;
  while (to < visits.length && visits[to].start - timeoutMs <= ts) to++;
  return { from, to };
}

export function startSession(e: EnrichedEvent): SessionState {
  return {
    trackingId: e.trackingId,
    visitorId: e.visitorId,
    start: e.ts,
    end: e.ts,
    firstEventId: e.eventId,
    lastEventId: e.eventId,
    entryPage: e.path,
    exitPage: e.path,
    pageviews: e.type === 'pageview' ? 1 : 0,
    events: e.type === 'event' ? 1 : 0,
    ...sessionDimsOf(e),
  };
}

function sessionDimsOf(e: EnrichedEvent) {
  return {
    source: e.source,
    utmSource: e.utmSource,
    utmMedium: e.utmMedium,
    utmCampaign: e.utmCampaign,
    country: e.country,
    device: e.device,
    browser: e.browser,
    os: e.os,
  };
}

/** (ts, eventId) order: what "first" and "last" mean when timestamps tie. */
function before(ts: number, id: string, otherTs: number, otherId: string): boolean {
  return ts < otherTs || (ts === otherTs && id < otherId);
}

/** The session with one more event (a new object; the input is not changed). */
export function extendSession(s: SessionState, e: EnrichedEvent): SessionState {
  const next: SessionState = { ...s };
  if (before(e.ts, e.eventId, s.start, s.firstEventId)) {
    next.start = e.ts;
    next.firstEventId = e.eventId;
    next.entryPage = e.path;
    Object.assign(next, sessionDimsOf(e));
  }
  if (before(s.end, s.lastEventId, e.ts, e.eventId)) {
    next.end = e.ts;
    next.lastEventId = e.eventId;
    next.exitPage = e.path;
  }
  if (e.type === 'pageview') next.pageviews++;
  else next.events++;
  return next;
}

/** One visit from two that an event bridged: what sessionising the union of their events gives. */
export function mergeSessions(a: SessionState, b: SessionState): SessionState {
  const [first, second] = before(a.start, a.firstEventId, b.start, b.firstEventId) ? [a, b] : [b, a];
  const last = before(first.end, first.lastEventId, second.end, second.lastEventId) ? second : first;
  return {
    ...first,
    end: last.end,
    lastEventId: last.lastEventId,
    exitPage: last.exitPage,
    pageviews: a.pageviews + b.pageviews,
    events: a.events + b.events,
  };
}

export function isBounce(s: SessionState): boolean {
  return s.pageviews + s.events === 1;
}

export function durationMs(s: SessionState): number {
  return s.end - s.start;
}

/** Dimensions a session contributes visits/bounces/duration to, in this order. */
export const SESSION_ROW_DIMS = [
  'entry_page', 'exit_page', 'source', 'utm_source', 'utm_medium', 'utm_campaign',
  'country', 'device', 'browser', 'os',
] as const satisfies readonly Dimension[];

/** The session-level dimensions that an event's pageviews/events are also broken down by. */
export const EVENT_SESSION_DIMS = SESSION_ROW_DIMS.slice(2) as readonly Dimension[];

/** Breakdown values of a session, aligned with SESSION_ROW_DIMS. */
export function sessionRowValues(s: SessionState): string[] {
  return [
    label(s.entryPage), label(s.exitPage), label(s.source),
    label(s.utmSource), label(s.utmMedium), label(s.utmCampaign),
    label(s.country), label(s.device), label(s.browser), label(s.os),
  ];
}
