/**
 * One chunk of a replay: one tracking ID, one UTC day, recomputed from the raw archive with the
 * current logic. Pure with respect to the rollup store except for reads: the runner writes.
 *
 * The buckets of day D are a function of more than D's events:
 *  - an event of D counts with the session-level values (source, UTM, …) of its visit, and a
 *    visit can have started before D: the warm-up reads back until every visit that reaches D is
 *    known from its first event (at least one session timeout, doubled while a visitor's chain
 *    of events still touches the start of the window; at most `maxLookbackMs`);
 *  - a visit that starts in D counts its bounce, duration and exit page in D's buckets, and it
 *    can end after D: the look-ahead reads on while visits of D are still open (at most
 *    `maxLookaheadMs`), applying only the events that extend them.
 * Everything applied outside D only builds session state: its contributions to buckets outside
 * D are thrown away. With events applied in (ts, eventId) order, as `computeRollups` over the
 * whole archive would, D's buckets come out identical to that reference.
 */
import type { EnrichedEvent } from '../../core/event.ts';
import type { RawArchive, ReplayDayFigures, RollupStore } from '../../core/ports/index.ts';
import type { RollupRow, SessionState, StoredBucket } from '../../core/rollup/model.ts';
import { DAY_MS, GRANULARITIES, HOUR_MS } from '../../core/time.ts';
import { RollupState, type RollupOptions } from '../rollup/index.ts';
import { visitorCount } from '../../core/rollup/counters.ts';
import { fromMinorUnits } from '../../core/rollup/labels.ts';

export interface DayInput {
  trackingId: string;
  /** UTC day start, ms. */
  day: number;
  options: RollupOptions;
  /** Where the raw events come from: the archive, or the event log (log-source.ts). */
  archive: Pick<RawArchive, 'scan'>;
  rollups: RollupStore;
  /** Keeps the events the live aggregator has counted (see countedBy). */
  counted: (events: EnrichedEvent[]) => Promise<EnrichedEvent[]>;
  now: number;
  maxLookbackMs?: number;
  maxLookaheadMs?: number;
  /** Read around the day in the first scan (default 4 session timeouts). */
  marginMs?: number;
  pageSize?: number;
}

export interface DayResult {
  /** Every bucket of the day, new or emptied (a bucket the recompute no longer produces is written empty). */
  buckets: StoredBucket[];
  /** The recomputed visits that overlap the day (the runner decides which replace the live state). */
  sessions: SessionState[];
  /** Raw events of the day in the archive, and those left out because the live path has not counted them yet. */
  eventsInDay: number;
  eventsLeftToLive: number;
  /** Events read in all (warm-up, day, look-ahead). */
  eventsRead: number;
  old: ReplayDayFigures;
  new: ReplayDayFigures;
}

export const DEFAULT_MAX_LOOKBACK_MS = 2 * DAY_MS;
export const DEFAULT_MAX_LOOKAHEAD_MS = 2 * DAY_MS;
export const DEFAULT_MARGIN_TIMEOUTS = 4;
/** Clock difference allowed between the collector (receivedAt) and the aggregator (seen `at`). */
const SEEN_MARGIN_MS = HOUR_MS;

/**
 * The archive can hold events the live aggregator has not counted yet (the archiver runs ahead of
 * it). Those are left out of the recompute: the live path counts them after the chunk, on top of
 * the replaced buckets. An event is counted if its eventId is in the seen set (written in the same
 * commit as the rollups), or if it was received so long ago that its seen entry may have been
 * pruned (maintenance drops entries older than the dedup window, and `at` ≥ receivedAt).
 */
export function countedBy(rollups: RollupStore, trackingId: string, now: number, dedupWindowMs: number): (events: EnrichedEvent[]) => Promise<EnrichedEvent[]> {
  const horizon = now - dedupWindowMs + SEEN_MARGIN_MS;
  return async (events) => {
    const recent = events.filter((e) => e.receivedAt >= horizon).map((e) => e.eventId);
    if (recent.length === 0) return events;
    const seen = await rollups.seenEventIds(trackingId, recent);
    return events.filter((e) => e.receivedAt < horizon || seen.has(e.eventId));
  };
}

export async function recomputeDay(input: DayInput): Promise<DayResult> {
  const { trackingId, day, options, archive } = input;
  const T = options.sessionTimeoutMs;
  const end = day + DAY_MS;
  const maxLookback = input.maxLookbackMs ?? DEFAULT_MAX_LOOKBACK_MS;
  const maxLookahead = input.maxLookaheadMs ?? DEFAULT_MAX_LOOKAHEAD_MS;
  // At least one timeout back: the warm-up starts from what this first scan finds before the day.
  const margin = Math.max(T, Math.min(input.marginMs ?? DEFAULT_MARGIN_TIMEOUTS * T, maxLookback, maxLookahead));
  const pageSize = input.pageSize ?? 10_000;
  const ids = new Set<string>();
  let eventsRead = 0;
  let eventsInDay = 0;
  let eventsLeftToLive = 0;

  /** Counted events of [from, to) in (ts, eventId) order, once each, page by page. */
  async function* pages(from: number, to: number): AsyncGenerator<EnrichedEvent[]> {
    if (from >= to) return;
    for await (const page of archive.scan({ trackingIds: [trackingId], from, to }, pageSize)) {
      const unique = page.filter((e) => !ids.has(e.eventId) && ids.add(e.eventId));
      eventsRead += page.length;
      let inDay = 0;
      for (const e of unique) if (e.ts >= day && e.ts < end) inDay++;
      const counted = await input.counted(unique);
      eventsInDay += inDay;
      eventsLeftToLive += inDay - counted.filter((e) => e.ts >= day && e.ts < end).length;
      yield counted;
    }
  }
  async function read(from: number, to: number): Promise<EnrichedEvent[]> {
    const out: EnrichedEvent[] = [];
    for await (const page of pages(from, to)) out.push(...page);
    return out;
  }

  const state = new RollupState(options);
  const lastTs = new Map<string, number>();
  const apply = (events: readonly EnrichedEvent[]) => {
    state.apply(events);
    for (const e of events) lastTs.set(e.visitorId, e.ts);
  };

  // One forward scan of [day − margin, end + margin) does most of the work in one archive query
  // (a store without range pushdown, such as FerretDB, pays a collection scan per query): the
  // events before the day are the warm-up, the day's are applied page by page, the ones after it
  // are the start of the look-ahead. Further reads only when visits reach beyond the margins.
  let warm: EnrichedEvent[] | undefined = [];
  const ahead: EnrichedEvent[] = [];
  let lo = day - margin;

  // ---- warm-up: every visit that reaches the day, from its first event.
  async function warmUp(): Promise<void> {
    let events = warm!;
    warm = undefined;
    let chains = chainStarts(events, day, T);
    while (lo > day - maxLookback && [...chains.values()].some((first) => first < lo + T)) {
      const next = Math.max(day - maxLookback, lo - Math.max(T, day - lo));
      events = (await read(next, lo)).concat(events);
      lo = next;
      chains = chainStarts(events, day, T);
    }
    apply(events.filter((e) => chains.has(e.visitorId)));
  }

  // ---- the day itself, applied page by page.
  for await (const page of pages(lo, end + margin)) {
    let i = 0;
    if (warm) {
      while (i < page.length && page[i].ts < day) warm.push(page[i++]);
      if (i === page.length) continue;
      await warmUp();
    }
    let j = i;
    while (j < page.length && page[j].ts < end) j++;
    apply(page.slice(i, j));
    for (; j < page.length; j++) ahead.push(page[j]);
  }
  if (warm) await warmUp();

  // ---- look-ahead: only events that extend a visit still open at the end of the day.
  const open = new Set<string>();
  for (const [visitor, ts] of lastTs) if (ts >= end - T) open.add(visitor);
  const extend = (events: readonly EnrichedEvent[]) => {
    for (const e of events) {
      if (!open.has(e.visitorId)) continue;
      if (e.ts > lastTs.get(e.visitorId)! + T) {
        open.delete(e.visitorId); // a new visit: not the day's business
        continue;
      }
      apply([e]);
    }
  };
  extend(ahead);
  let hi = end + margin;
  for (const v of open) if (lastTs.get(v)! < hi - T) open.delete(v);
  let step = Math.max(2 * T, margin);
  while (open.size > 0 && hi < end + maxLookahead && hi <= input.now) {
    const next = Math.min(end + maxLookahead, hi + step);
    extend(await read(hi, next));
    hi = next;
    for (const v of open) if (lastTs.get(v)! < hi - T) open.delete(v);
    step *= 2;
  }

  const diff = state.takeDirty();
  const fresh = diff.buckets.filter((b) => b.start >= day && b.start < end);
  const sessions = diff.sessions.filter((s) => s.start < end && s.end >= day);

  // ---- what the store has now: buckets to empty, and the old figures of the day.
  const produced = new Set(fresh.map((b) => `${b.granularity}\u0000${b.start}`));
  const emptied: StoredBucket[] = [];
  let oldDay: RollupRow | undefined;
  for (const granularity of GRANULARITIES) {
    for (const row of await input.rollups.readTotals(trackingId, granularity, day, end)) {
      if (granularity === 'day') oldDay = row;
      if (!produced.has(`${granularity}\u0000${row.start}`)) emptied.push(emptyBucket(trackingId, granularity, row.start, options.logicVersion));
    }
  }
  const newDay = fresh.find((b) => b.granularity === 'day')?.totals;
  return {
    buckets: [...fresh, ...emptied],
    sessions,
    eventsInDay,
    eventsLeftToLive,
    eventsRead,
    old: figures(oldDay),
    new: figures(newDay),
  };
}

/**
 * For each visitor whose last event before `day` is within the timeout of it (their visit may
 * go on into the day): the ts of the first event of that visit as far as `events` show it.
 */
export function chainStarts(events: readonly EnrichedEvent[], day: number, timeoutMs: number): Map<string, number> {
  const byVisitor = new Map<string, number[]>();
  for (const e of events) {
    const list = byVisitor.get(e.visitorId);
    if (list) list.push(e.ts);
    else byVisitor.set(e.visitorId, [e.ts]);
  }
  const out = new Map<string, number>();
  for (const [visitor, times] of byVisitor) {
    let i = times.length - 1;
    if (times[i] < day - timeoutMs) continue;
    while (i > 0 && times[i] - times[i - 1] <= timeoutMs) i--;
    out.set(visitor, times[i]);
  }
  return out;
}

export function emptyBucket(trackingId: string, granularity: StoredBucket['granularity'], start: number, logicVersion: number): StoredBucket {
  return {
    trackingId, granularity, start, logicVersion, breakdowns: [],
    totals: { pageviews: 0, events: 0, visits: 0, bounces: 0, durationMs: 0, conversions: 0, revenue: {}, visitors: new Uint8Array(0) },
  };
}

export function figures(row: RollupRow | undefined): ReplayDayFigures {
  if (!row) return { pageviews: 0, events: 0, visits: 0, visitors: 0, revenue: {} };
  const revenue: Record<string, number> = {};
  for (const [currency, minor] of Object.entries(row.revenue)) if (minor !== 0) revenue[currency] = fromMinorUnits(minor);
  return { pageviews: row.pageviews, events: row.events, visits: row.visits, visitors: Math.round(visitorCount(row)), revenue };
}

export function sameFigures(a: ReplayDayFigures, b: ReplayDayFigures): boolean {
  if (a.pageviews !== b.pageviews || a.events !== b.events || a.visits !== b.visits || a.visitors !== b.visitors) return false;
  const currencies = new Set([...Object.keys(a.revenue), ...Object.keys(b.revenue)]);
  for (const c of currencies) if ((a.revenue[c] ?? 0) !== (b.revenue[c] ?? 0)) return false;
  return true;
}
