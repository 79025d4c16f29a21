/**
 * Which rollup rows to read for a set of output buckets. Pure.
 *
 * Each output bucket [a, b) is covered by the coarsest stored buckets that fit inside it: UTC day
 * rows for whole UTC days, hour rows for whole hours, minute rows for the rest. A 30-day query in
 * UTC is 30 day rows; in Europe/Berlin it is 29 day rows plus 24 hour rows at the edges; a daily
 * Berlin timeseries is all hour rows (no local day is a UTC day). Unique visitors stay exact under
 * this mixing because every row's sketch covers a disjoint slice of time and they are unioned.
 *
 * Adjacent pieces of one granularity are merged into one read span, so a query costs one store
 * call per contiguous run, not one per bucket.
 */
import { DAY_MS, HOUR_MS, type Granularity } from '../core/time.ts';

export interface ReadSpan {
  granularity: Granularity;
  from: number;
  to: number;
}

/** Pieces covering [from, to) exactly; minute pieces appear only where an edge is not on a whole hour. */
export function cover(from: number, to: number): ReadSpan[] {
  const out: ReadSpan[] = [];
  const firstDay = Math.ceil(from / DAY_MS) * DAY_MS;
  const lastDay = Math.floor(to / DAY_MS) * DAY_MS;
  if (firstDay < lastDay) {
    coverHours(from, firstDay, out);
    out.push({ granularity: 'day', from: firstDay, to: lastDay });
    coverHours(lastDay, to, out);
  } else {
    coverHours(from, to, out);
  }
  return out;
}

function coverHours(from: number, to: number, out: ReadSpan[]): void {
  if (from >= to) return;
  const firstHour = Math.ceil(from / HOUR_MS) * HOUR_MS;
  const lastHour = Math.floor(to / HOUR_MS) * HOUR_MS;
  if (firstHour < lastHour) {
    if (from < firstHour) out.push({ granularity: 'minute', from, to: firstHour });
    out.push({ granularity: 'hour', from: firstHour, to: lastHour });
    if (lastHour < to) out.push({ granularity: 'minute', from: lastHour, to });
  } else {
    out.push({ granularity: 'minute', from, to });
  }
}

/** Read spans for buckets given by ascending edges (n+1 edges for n buckets). */
export function planReads(edges: readonly number[]): ReadSpan[] {
  const spans: ReadSpan[] = [];
  for (let i = 0; i + 1 < edges.length; i++) {
    for (const piece of cover(edges[i], edges[i + 1])) {
      const last = spans[spans.length - 1];
      if (last && last.granularity === piece.granularity && last.to === piece.from) last.to = piece.to;
      else spans.push({ ...piece });
    }
  }
  return spans;
}

/**
 * Index of the bucket holding a row that starts at `start`, or -1 outside the edges. Rows never
 * straddle buckets (the plan only reads rows that fit inside one), so the start decides.
 */
export function bucketIndex(edges: readonly number[], start: number): number {
  if (start < edges[0] || start >= edges[edges.length - 1]) return -1;
  let lo = 0;
  let hi = edges.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (edges[mid] <= start) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
