/**
 * Enriched events → segment rows (pure). Visits are chains of one visitor's events, in (ts, eventId)
 * order, where each gap is at most the session timeout (inclusive), as the rollups' sessionizer
 * (pipeline/rollup/session.ts) defines them; the visit's session-level values come from its first
 * event. Used by the segment writer for sealed days and by the tail for the open part of today.
 */
import type { EnrichedEvent } from '../event.ts';
import { toMinorUnits } from '../rollup/labels.ts';
import { channelOf } from '../channel.ts';
import type { SegmentEventRow, SegmentVisitRow, SessionValues } from './schema.ts';

export interface RowWindow {
  /** Events rows: ts in [from, to). Visits rows: start_ts in [from, to). */
  from: number;
  to: number;
  sessionTimeoutMs: number;
}

export interface SegmentRows {
  events: SegmentEventRow[];
  visits: SegmentVisitRow[];
}

const byTime = (a: EnrichedEvent, b: EnrichedEvent): number =>
  a.ts - b.ts || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0);

/** Session-level values of a visit whose first event is `e`. */
export function sessionValuesOf(e: EnrichedEvent): SessionValues {
  return {
    entry_page: e.path,
    entry_hostname: e.host,
    source: e.source,
    referrer: e.referrer,
    channel: channelOf(e.source, e.utmSource, e.utmMedium, e.utmCampaign),
    utm_source: e.utmSource,
    utm_medium: e.utmMedium,
    utm_campaign: e.utmCampaign,
    utm_term: e.utmTerm,
    utm_content: e.utmContent,
    country: e.country,
    region: '',
    city: '',
    device: e.device,
    browser: e.browser,
    browser_version: e.browserVersion ?? '',
    os: e.os,
    os_version: e.osVersion ?? '',
  };
}

/**
 * The rows of the window. `events` must hold every event of the visits that touch the window
 * (a look-back/look-ahead of some session timeouts around it); duplicates by eventId are kept once.
 */
export function buildSegmentRows(events: readonly EnrichedEvent[], w: RowWindow): SegmentRows {
  const unique = new Map<string, EnrichedEvent>();
  for (const e of events) if (!unique.has(e.eventId)) unique.set(e.eventId, e);
  const byVisitor = new Map<string, EnrichedEvent[]>();
  for (const e of unique.values()) {
    const key = `${e.trackingId}\u0000${e.visitorId}`;
    const list = byVisitor.get(key);
    if (list) list.push(e);
    else byVisitor.set(key, [e]);
  }
  const out: SegmentRows = { events: [], visits: [] };
  for (const list of byVisitor.values()) {
    list.sort(byTime);
    let start = 0;
    for (let i = 1; i <= list.length; i++) {
      if (i === list.length || list[i].ts - list[i - 1].ts > w.sessionTimeoutMs) {
        addVisit(list.slice(start, i), w, out);
        start = i;
      }
    }
  }
  out.events.sort((a, b) => a.ts - b.ts || (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0));
  out.visits.sort((a, b) => a.start_ts - b.start_ts || (a.visit_id < b.visit_id ? -1 : a.visit_id > b.visit_id ? 1 : 0));
  return out;
}

function addVisit(visit: EnrichedEvent[], w: RowWindow, out: SegmentRows): void {
  const first = visit[0];
  const last = visit[visit.length - 1];
  const session = sessionValuesOf(first);
  for (const e of visit) {
    if (e.ts < w.from || e.ts >= w.to) continue;
    out.events.push({
      event_id: e.eventId,
      visit_id: first.eventId,
      visitor_id: e.visitorId,
      ts: e.ts,
      received_at: e.receivedAt,
      type: e.type,
      name: e.name,
      hostname: e.host,
      page: e.path,
      revenue_currency: e.revenue ? e.revenue.currency : null,
      revenue_minor: e.revenue ? toMinorUnits(e.revenue.amount) : null,
      props: Object.fromEntries(Object.entries(e.props).map(([k, v]) => [k, String(v)])),
      ...session,
    });
  }
  if (first.ts < w.from || first.ts >= w.to) return;
  const pageviews = visit.filter((e) => e.type === 'pageview').length;
  out.visits.push({
    visit_id: first.eventId,
    visitor_id: first.visitorId,
    start_ts: first.ts,
    end_ts: last.ts,
    exit_page: last.path,
    exit_hostname: last.host,
    pageviews,
    events: visit.length - pageviews,
    is_bounce: visit.length === 1,
    duration_ms: last.ts - first.ts,
    ...session,
  });
}
