/**
 * How both rollup stores keep a visitor's visits (all those a late event can still join, so that
 * arrival order does not change the visits): one row per visitor, as before,
 * with the latest visit in its columns (so pruning by its end, and the expiry index, work as they
 * did) and the earlier visits late events can still join in one `earlier` text cell. The latest
 * visit ends last, so a row whose latest visit is past the horizon holds nothing worth keeping.
 */
import type { SessionState } from '../../core/rollup/model.ts';

/** A visitor's record as stored: its latest visit and the earlier ones, oldest first. */
export interface VisitorRecord {
  latest: SessionState;
  earlier: SessionState[];
}

/** A commit's visits grouped per visitor (each group is the visitor's whole set), in first-seen order. */
export function visitorRecords(sessions: readonly SessionState[]): VisitorRecord[] {
  const groups = new Map<string, SessionState[]>();
  for (const s of sessions) {
    const key = `${s.trackingId}\u0000${s.visitorId}`;
    const list = groups.get(key);
    if (list) list.push(s);
    else groups.set(key, [s]);
  }
  return [...groups.values()].map((list) => {
    const sorted = [...list].sort((a, b) => a.start - b.start);
    return { latest: sorted[sorted.length - 1], earlier: sorted.slice(0, -1) };
  });
}

type Compact = [start: number, end: number, firstEventId: string, lastEventId: string, entryPage: string, exitPage: string,
  pageviews: number, events: number, source: string, utmSource: string, utmMedium: string, utmCampaign: string,
  country: string, device: string, browser: string, os: string];

/** The `earlier` cell: a JSON array of arrays (no keys repeated per visit); '[]' for none. */
export function encodeEarlier(earlier: readonly SessionState[]): string {
  return JSON.stringify(earlier.map((s): Compact => [
    s.start, s.end, s.firstEventId, s.lastEventId, s.entryPage, s.exitPage, s.pageviews, s.events,
    s.source, s.utmSource, s.utmMedium, s.utmCampaign, s.country, s.device, s.browser, s.os,
  ]));
}

export function decodeEarlier(cell: string | null | undefined, trackingId: string, visitorId: string): SessionState[] {
  if (cell === null || cell === undefined || cell === '' || cell === '[]') return [];
  return (JSON.parse(cell) as Compact[]).map(([start, end, firstEventId, lastEventId, entryPage, exitPage, pageviews, events,
    source, utmSource, utmMedium, utmCampaign, country, device, browser, os]) => ({
    trackingId, visitorId, start, end, firstEventId, lastEventId, entryPage, exitPage, pageviews, events,
    source, utmSource, utmMedium, utmCampaign, country, device, browser, os,
  }));
}

/** Each visitor once, in first-asked order (a caller may list a visitor once per visit). */
export function distinctVisitors<K extends { trackingId: string; visitorId: string }>(keys: readonly K[]): K[] {
  const seen = new Set<string>();
  return keys.filter((k) => {
    const id = `${k.trackingId}\u0000${k.visitorId}`;
    return !seen.has(id) && seen.add(id) !== undefined;
  });
}
