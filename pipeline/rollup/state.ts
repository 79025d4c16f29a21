/**
 * One algorithm, kept in one file (~400 lines): the contributions below and their retraction only
 * read correctly side by side. The bucket math is bucket.ts, the visit rule session.ts.
 *
 * The aggregator's working state: the buckets and sessions a batch touches, mutated in place
 * by apply() and handed back as diffs by takeDirty(). No I/O: the aggregator loads what the
 * store has (sessionKeysFor → loadSessions, then bucketKeysFor → loadBuckets), applies, writes.
 *
 * Contributions:
 *  - an event counts in the buckets of its own ts (minute, hour, day): pageviews or
 *    events/conversions/revenue and its visitor in the `visitors` sketch; in hour/day
 *    breakdowns also page[path] or event[name], and the session-level dimensions (source,
 *    utm_*, country, device, browser, os) of its session as known when it is applied;
 *  - a session counts in the buckets of its START: visits 1, bounces, durationMs, and in
 *    hour/day breakdowns entry_page, exit_page and the session-level dimensions. When an event
 *    changes a session, (new − old) is applied, so any batching of the same log gives the same
 *    buckets and a late event that moves the start or the exit page retracts the old contribution.
 *  - every visit of a visitor within `historyMs` of its latest event is kept (not only the
 *    latest), so an event arriving out of ts order joins the visit it belongs to, or bridges two
 *    (both retracted, the merged one added): visits, bounces, durations, entry/exit pages and the
 *    visit dimensions come out as sessionising the visitor's sorted events would, whatever the
 *    arrival order (before, such an event counted as a visit of its own).
 * Event-level rows are never retracted (a sketch cannot forget a visitor): if a late event
 * becomes a session's first event and changes its source, pageviews already counted under the
 * old source stay there, while the session's visits/bounces/duration move to the new one.
 */
import { hashValue, type HllHash } from '../../core/sketch/hll.ts';
import type { EnrichedEvent } from '../../core/event.ts';
import type { BucketKey, SessionState, StoredBucket } from '../../core/rollup/model.ts';
import { bucketStart, GRANULARITIES, GRANULARITY_MS, type Granularity } from '../../core/time.ts';
import { compareStrings, MemBucket } from './bucket.ts';
import { label, toMinorUnits } from '../../core/rollup/labels.ts';
import {
  durationMs, EVENT_SESSION_DIMS, extendSession, isBounce, joinedVisits, mergeSessions, SESSION_ROW_DIMS,
  sessionKey, sessionRowValues, startSession,
} from './session.ts';

export interface RollupOptions {
  /** Inactivity that ends a visit. */
  sessionTimeoutMs: number;
  /** Distinct values kept per (bucket, dimension); the rest go to OTHER. */
  topK: number;
  /** Written into every bucket (replays with new logic bump it). */
  logicVersion: number;
  /**
   * Earlier visits of a visitor are kept while they end at most this long before the visitor's
   * latest event, for late events to join. It must cover the oldest event the collector accepts
   * plus the timeout (the aggregator passes maxEventAge + timeout + 1 h of clock margin): a visit
   * dropped earlier could be joined by an accepted event, which would then count as a new visit.
   * Default: historyFor(72 h, 30 min), the collector's default max event age.
   */
  historyMs?: number;
}

export const DEFAULT_ROLLUP_OPTIONS: RollupOptions = { sessionTimeoutMs: 30 * 60_000, topK: 100, logicVersion: 1 };

/** historyMs for an oldest accepted event age (collector's maxEventAgeHours) and a timeout. */
export function historyFor(maxEventAgeHours: number, sessionTimeoutMs: number): number {
  return (maxEventAgeHours + 1) * 3_600_000 + sessionTimeoutMs;
}

export interface VisitorKey {
  trackingId: string;
  visitorId: string;
}

export interface RollupDiff {
  /** Sorted by trackingId, granularity (minute, hour, day), start. */
  buckets: StoredBucket[];
  /** Every kept visit of each changed visitor (the visitor's whole set), sorted by trackingId, visitorId, start. */
  sessions: SessionState[];
}

const G_INDEX: Record<Granularity, number> = { minute: 0, hour: 1, day: 2 };

/**
 * Bucket starts are multiples of a minute, so start + granularity index is a unique number
 * per (start, granularity): one numeric Map lookup per bucket instead of a string key.
 */
function slot(granularity: Granularity, start: number): number {
  return start + G_INDEX[granularity];
}

export class RollupState {
  readonly options: RollupOptions;
  private readonly historyMs: number;
  private readonly buckets = new Map<string, Map<number, MemBucket>>();
  /** Per visitor: its kept visits, sorted by start, more than the timeout apart. */
  private readonly sessions = new Map<string, SessionState[]>();
  private readonly dirtyBuckets = new Set<MemBucket>();
  private readonly dirtySessions = new Set<string>();

  constructor(options: Partial<RollupOptions> = {}) {
    this.options = { ...DEFAULT_ROLLUP_OPTIONS, ...options };
    if (!(this.options.sessionTimeoutMs > 0)) throw new Error('sessionTimeoutMs must be positive');
    this.historyMs = this.options.historyMs ?? historyFor(72, this.options.sessionTimeoutMs);
    if (!(this.historyMs >= this.options.sessionTimeoutMs)) throw new Error('historyMs must be at least sessionTimeoutMs');
    if (!(Number.isInteger(this.options.topK) && this.options.topK >= 0)) throw new Error('topK must be a non-negative integer');
  }

  // ---------------------------------------------------------------- loading

  /**
   * Adds stored buckets. Keys already in memory are skipped: memory is never older than the
   * store, since every change made here is written from here. A key that bucketKeysFor()
   * returned and the store lacks is simply left out: apply() then starts it empty.
   */
  loadBuckets(buckets: readonly StoredBucket[]): void {
    for (const b of buckets) {
      if (this.peekBucket(b.trackingId, b.granularity, b.start) !== undefined) continue;
      this.siteBuckets(b.trackingId).set(slot(b.granularity, b.start), MemBucket.fromStored(b));
    }
  }

  /** Adds stored sessions (every kept visit of a visitor); visitors already in memory are skipped. */
  loadSessions(sessions: readonly SessionState[]): void {
    const loaded = new Map<string, SessionState[]>();
    for (const s of sessions) {
      const key = sessionKey(s.trackingId, s.visitorId);
      if (this.sessions.has(key)) continue;
      const list = loaded.get(key);
      if (list) list.push({ ...s });
      else loaded.set(key, [{ ...s }]);
    }
    for (const [key, list] of loaded) this.sessions.set(key, list.sort((a, b) => a.start - b.start));
  }

  /** Visitors of a batch whose session is not in memory: load these first. */
  sessionKeysFor(events: readonly EnrichedEvent[]): VisitorKey[] {
    const out = new Map<string, VisitorKey>();
    for (const e of events) {
      const key = sessionKey(e.trackingId, e.visitorId);
      if (!this.sessions.has(key) && !out.has(key)) out.set(key, { trackingId: e.trackingId, visitorId: e.visitorId });
    }
    return [...out.values()].sort((a, b) => compareStrings(a.trackingId, b.trackingId) || compareStrings(a.visitorId, b.visitorId));
  }

  /**
   * Buckets a batch needs that are not in memory: its events' buckets and the start buckets of
   * the kept visits its events join (whose contributions may be retracted). Call after
   * loadSessions: every bucket apply() can touch is one of these, as sessions only ever start at
   * an event's ts, and a kept visit is first changed by an event that joins it as it is now.
   */
  bucketKeysFor(events: readonly EnrichedEvent[]): BucketKey[] {
    const out = new Map<string, BucketKey>();
    const want = (trackingId: string, ts: number): void => {
      for (const granularity of GRANULARITIES) {
        const start = bucketStart(ts, granularity);
        if (this.peekBucket(trackingId, granularity, start) !== undefined) continue;
        const id = `${trackingId}\u0000${slot(granularity, start)}`;
        if (!out.has(id)) out.set(id, { trackingId, granularity, start });
      }
    };
    for (const e of events) {
      want(e.trackingId, e.ts);
      const visits = this.sessions.get(sessionKey(e.trackingId, e.visitorId));
      if (visits === undefined) continue;
      const { from, to } = joinedVisits(visits, e.ts, this.options.sessionTimeoutMs);
      for (let i = from; i < to; i++) want(e.trackingId, visits[i].start);
    }
    return [...out.values()].sort(compareBucketKeys);
  }

  // ---------------------------------------------------------------- applying

  /** Applies events in log order (already deduplicated by the aggregator). */
  apply(events: readonly EnrichedEvent[]): void {
    for (const e of events) this.applyEvent(e);
  }

  private applyEvent(e: EnrichedEvent): void {
    const key = sessionKey(e.trackingId, e.visitorId);
    let visits = this.sessions.get(key);
    if (visits === undefined) {
      visits = [];
      this.sessions.set(key, visits);
    }
    const { from, to } = joinedVisits(visits, e.ts, this.options.sessionTimeoutMs);
    let session: SessionState;
    if (from === to) {
      session = startSession(e);
      visits.splice(from, 0, session);
      this.applySessionChange(undefined, session);
    } else {
      // Joins one visit, or bridges several into one: the first is changed, the others retracted.
      session = extendSession(visits[from], e);
      for (let i = from + 1; i < to; i++) {
        this.retractSession(visits[i]);
        session = mergeSessions(session, visits[i]);
      }
      this.applySessionChange(visits[from], session);
      visits.splice(from, to - from, session);
    }
    // Visits too old for any accepted event to join are forgotten (their contributions stay).
    const horizon = visits[visits.length - 1].end - this.historyMs;
    let old = 0;
    while (visits[old].end < horizon) old++;
    if (old > 0) visits.splice(0, old);
    this.dirtySessions.add(key);
    this.applyEventContribution(e, session, hashValue(e.visitorId));
  }

  /** Takes a visit's contribution back out of its start buckets (it was merged into another). */
  private retractSession(s: SessionState): void {
    const { topK } = this.options;
    const bounce = isBounce(s) ? 1 : 0;
    const duration = durationMs(s);
    const values = sessionRowValues(s);
    for (const granularity of GRANULARITIES) {
      const b = this.bucket(s.trackingId, granularity, bucketStart(s.start, granularity));
      b.totals.addSession(-1, -bounce, -duration);
      if (granularity === 'minute') continue;
      for (let i = 0; i < SESSION_ROW_DIMS.length; i++) b.row(SESSION_ROW_DIMS[i], values[i], topK).addSession(-1, -bounce, -duration);
    }
  }

  /** Applies contribution(next) − contribution(prev) to the start buckets of both. */
  private applySessionChange(prev: SessionState | undefined, next: SessionState): void {
    const { topK } = this.options;
    const nextBounce = isBounce(next) ? 1 : 0;
    const nextDuration = durationMs(next);
    const nextValues = sessionRowValues(next);
    const prevBounce = prev !== undefined && isBounce(prev) ? 1 : 0;
    const prevDuration = prev !== undefined ? durationMs(prev) : 0;
    const prevValues = prev !== undefined ? sessionRowValues(prev) : undefined;

    for (const granularity of GRANULARITIES) {
      const withBreakdowns = granularity !== 'minute';
      const nextStart = bucketStart(next.start, granularity);
      if (prev !== undefined && bucketStart(prev.start, granularity) === nextStart) {
        // Same bucket: only the bounce/duration deltas, plus moves between breakdown values.
        const dBounce = nextBounce - prevBounce;
        const dDuration = nextDuration - prevDuration;
        const deltaZero = dBounce === 0 && dDuration === 0;
        const changed = withBreakdowns && nextValues.some((v, i) => v !== prevValues![i]);
        if (deltaZero && !changed) continue;
        const b = this.bucket(next.trackingId, granularity, nextStart);
        if (!deltaZero) b.totals.addSession(0, dBounce, dDuration);
        if (!withBreakdowns) continue;
        for (let i = 0; i < SESSION_ROW_DIMS.length; i++) {
          const dim = SESSION_ROW_DIMS[i];
          if (nextValues[i] === prevValues![i]) {
            if (!deltaZero) b.row(dim, nextValues[i], topK).addSession(0, dBounce, dDuration);
          } else {
            b.row(dim, prevValues![i], topK).addSession(-1, -prevBounce, -prevDuration);
            b.row(dim, nextValues[i], topK).addSession(1, nextBounce, nextDuration);
          }
        }
        continue;
      }
      if (prev !== undefined) {
        const b = this.bucket(prev.trackingId, granularity, bucketStart(prev.start, granularity));
        b.totals.addSession(-1, -prevBounce, -prevDuration);
        if (withBreakdowns) {
          for (let i = 0; i < SESSION_ROW_DIMS.length; i++) b.row(SESSION_ROW_DIMS[i], prevValues![i], topK).addSession(-1, -prevBounce, -prevDuration);
        }
      }
      const b = this.bucket(next.trackingId, granularity, nextStart);
      b.totals.addSession(1, nextBounce, nextDuration);
      if (withBreakdowns) {
        for (let i = 0; i < SESSION_ROW_DIMS.length; i++) b.row(SESSION_ROW_DIMS[i], nextValues[i], topK).addSession(1, nextBounce, nextDuration);
      }
    }
  }

  private applyEventContribution(e: EnrichedEvent, session: SessionState, visitor: HllHash): void {
    const { topK } = this.options;
    const isPageview = e.type === 'pageview';
    const pageviews = isPageview ? 1 : 0;
    const events = isPageview ? 0 : 1;
    // Revenue counts for custom events only: a conversion is a custom event that carried revenue.
    const revenue = !isPageview && e.revenue !== null ? e.revenue : null;
    const conversions = revenue !== null ? 1 : 0;
    const currency = revenue !== null ? revenue.currency : null;
    const minor = revenue !== null ? toMinorUnits(revenue.amount) : 0;
    let sessionValues: string[] | undefined;

    for (const granularity of GRANULARITIES) {
      const b = this.bucket(e.trackingId, granularity, bucketStart(e.ts, granularity));
      b.totals.addEvent(pageviews, events, conversions, currency, minor);
      b.totals.addVisitor(visitor);
      if (granularity === 'minute') continue;
      const own = isPageview ? b.row('page', label(e.path), topK) : b.row('event', label(e.name), topK);
      own.addEvent(pageviews, events, conversions, currency, minor);
      own.addVisitor(visitor);
      sessionValues ??= sessionRowValues(session);
      for (let i = 0; i < EVENT_SESSION_DIMS.length; i++) {
        const r = b.row(EVENT_SESSION_DIMS[i], sessionValues[i + 2], topK);
        r.addEvent(pageviews, events, conversions, currency, minor);
        r.addVisitor(visitor);
      }
    }
  }

  private siteBuckets(trackingId: string): Map<number, MemBucket> {
    let m = this.buckets.get(trackingId);
    if (m === undefined) {
      m = new Map();
      this.buckets.set(trackingId, m);
    }
    return m;
  }

  private peekBucket(trackingId: string, granularity: Granularity, start: number): MemBucket | undefined {
    return this.buckets.get(trackingId)?.get(slot(granularity, start));
  }

  /** The bucket to change, created empty if absent, marked dirty. */
  private bucket(trackingId: string, granularity: Granularity, start: number): MemBucket {
    const site = this.siteBuckets(trackingId);
    const id = slot(granularity, start);
    let b = site.get(id);
    if (b === undefined) {
      b = new MemBucket(trackingId, granularity, start);
      site.set(id, b);
    }
    if (!b.dirty) {
      b.dirty = true;
      this.dirtyBuckets.add(b);
    }
    return b;
  }

  // ---------------------------------------------------------------- writing back, memory

  /**
   * Everything changed since the last call, whole buckets in deterministic order; clears the
   * dirty marks. Unchanged rows and visits are the same objects as in earlier calls: treat them as immutable.
   */
  takeDirty(): RollupDiff {
    const buckets = [...this.dirtyBuckets].map((b) => {
      b.dirty = false;
      return b.toStored(this.options.logicVersion);
    });
    buckets.sort(compareBucketKeys);
    // Keys sort as (trackingId, visitorId) (the NUL separator sorts first) and each visitor's
    // visits are already by start: sort the visitors, not their visits. Visits are never changed
    // in place (extendSession and mergeSessions make new ones), so they are handed out as they are.
    const sessions = [...this.dirtySessions].sort(compareStrings).flatMap((k) => this.sessions.get(k)!);
    this.dirtyBuckets.clear();
    this.dirtySessions.clear();
    return { buckets, sessions };
  }

  /**
   * Drops clean buckets that ended at or before `ts` (start + size ≤ ts); dirty ones stay until
   * taken. An evicted bucket is reloaded from the store if a late event needs it. Returns the count.
   */
  evictBucketsBefore(ts: number): number {
    let n = 0;
    for (const [trackingId, site] of this.buckets) {
      for (const [id, b] of site) {
        if (!b.dirty && b.start + GRANULARITY_MS[b.granularity] <= ts) {
          site.delete(id);
          n++;
        }
      }
      if (site.size === 0) this.buckets.delete(trackingId);
    }
    return n;
  }

  /** Drops the clean visitors whose latest event is before `ts` (with all their visits). Returns the count of visitors. */
  evictSessionsEndedBefore(ts: number): number {
    let n = 0;
    for (const [key, visits] of this.sessions) {
      if (visits[visits.length - 1].end < ts && !this.dirtySessions.has(key)) {
        this.sessions.delete(key);
        n++;
      }
    }
    return n;
  }

  /** Both evictions at one horizon: buckets that ended and sessions that ended before `ts`. */
  evictBefore(ts: number): { buckets: number; sessions: number } {
    return { buckets: this.evictBucketsBefore(ts), sessions: this.evictSessionsEndedBefore(ts) };
  }

  /** Alias of sessionKeysFor (the name pipeline/aggregator.ts uses). */
  missingSessionKeys(events: readonly EnrichedEvent[]): VisitorKey[] {
    return this.sessionKeysFor(events);
  }

  /** Alias of bucketKeysFor (the name pipeline/aggregator.ts uses). */
  missingBucketKeys(events: readonly EnrichedEvent[]): BucketKey[] {
    return this.bucketKeysFor(events);
  }

  /** What is held in memory (for the aggregator's eviction policy and metrics); sessions and dirtySessions count visitors. */
  size(): { buckets: number; sessions: number; dirtyBuckets: number; dirtySessions: number } {
    let buckets = 0;
    for (const site of this.buckets.values()) buckets += site.size;
    return { buckets, sessions: this.sessions.size, dirtyBuckets: this.dirtyBuckets.size, dirtySessions: this.dirtySessions.size };
  }
}

export function compareBucketKeys(a: BucketKey, b: BucketKey): number {
  return compareStrings(a.trackingId, b.trackingId) || G_INDEX[a.granularity] - G_INDEX[b.granularity] || a.start - b.start;
}

/** Reference semantics: a fresh state, every event applied at once. */
export function computeRollups(events: readonly EnrichedEvent[], options: Partial<RollupOptions> = {}): RollupDiff {
  const state = new RollupState(options);
  state.apply(events);
  return state.takeDirty();
}
