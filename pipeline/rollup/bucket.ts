/**
 * The in-memory, mutable form of a StoredBucket: counters as plain numbers, visitor sketches
 * parsed only when something is added to them, and the top-K slot rule per dimension.
 */
import { Hll, type HllHash } from '../../core/sketch/hll.ts';
import { DIMENSIONS, OTHER, type BreakdownRow, type Dimension, type RollupRow, type StoredBucket } from '../../core/rollup/model.ts';
import { bucketStart, type Granularity } from '../../core/time.ts';

const EMPTY = new Uint8Array(0);

export class MemRow {
  pageviews = 0;
  events = 0;
  visits = 0;
  bounces = 0;
  durationMs = 0;
  conversions = 0;
  revenue: Record<string, number> = {};
  /** Parsed sketch, created on the first add (most loaded rows are only read back out). */
  private hll: Hll | null = null;
  /** Serialised sketch, valid while non-null (rows loaded and not grown keep their stored bytes). */
  private bytes: Uint8Array | null = EMPTY;
  /**
   * Stored form as last handed out, valid until the next change: a flush re-emits whole
   * buckets, but only the rows that changed since the previous flush are rebuilt.
   */
  stored: BreakdownRow | RollupRow | null = null;

  static fromStored(row: RollupRow): MemRow {
    const r = new MemRow();
    r.pageviews = row.pageviews;
    r.events = row.events;
    r.visits = row.visits;
    r.bounces = row.bounces;
    r.durationMs = row.durationMs;
    r.conversions = row.conversions;
    r.revenue = { ...row.revenue };
    r.bytes = row.visitors;
    return r;
  }

  addVisitor(h: HllHash): void {
    if (this.hll === null) this.hll = this.bytes!.length === 0 ? Hll.create() : Hll.fromBytes(this.bytes!);
    if (this.hll.addHash(h)) {
      this.bytes = null;
      this.stored = null;
    }
  }

  /** Session-level counter deltas (negative to retract a contribution made earlier). */
  addSession(visits: number, bounces: number, durationMs: number): void {
    this.visits += visits;
    this.bounces += bounces;
    this.durationMs += durationMs;
    this.stored = null;
  }

  /** Event-level counters (never retracted: an event's bucket is its own ts). */
  addEvent(pageviews: number, events: number, conversions: number, currency: string | null, minor: number): void {
    this.pageviews += pageviews;
    this.events += events;
    this.conversions += conversions;
    if (currency !== null) this.revenue[currency] = (this.revenue[currency] ?? 0) + minor;
    this.stored = null;
  }

  /** Stored form (cached until the row changes): treat it and its sketch bytes as immutable. */
  toRow(): RollupRow {
    if (this.stored === null) this.stored = this.buildRow();
    return this.stored;
  }

  /** Stored breakdown form (cached until the row changes). */
  toBreakdownRow(dimension: Dimension, value: string): BreakdownRow {
    const cached = this.stored;
    if (cached !== null && 'dimension' in cached) return cached;
    const row: BreakdownRow = { dimension, value, ...(cached ?? this.buildRow()) };
    this.stored = row;
    return row;
  }

  private buildRow(): RollupRow {
    if (this.bytes === null) this.bytes = this.hll!.toBytes();
    const revenue: Record<string, number> = {};
    for (const cur of Object.keys(this.revenue).sort()) revenue[cur] = this.revenue[cur];
    return {
      pageviews: this.pageviews,
      events: this.events,
      visits: this.visits,
      bounces: this.bounces,
      durationMs: this.durationMs,
      conversions: this.conversions,
      revenue,
      visitors: this.bytes,
    };
  }
}

interface DimRows {
  rows: Map<string, MemRow>;
  /** rows' keys in code-unit order; null after an insert (re-sorted on the next flush). */
  sorted: string[] | null;
  /** Distinct values holding a slot (every row but OTHER). Slots are never freed. */
  slots: number;
}

const DIM_ORDER = new Map<Dimension, number>(DIMENSIONS.map((d, i) => [d, i]));

export class MemBucket {
  totals = new MemRow();
  private dims = new Map<Dimension, DimRows>();
  /** Changed since the last takeDirty(). */
  dirty = false;

  constructor(
    readonly trackingId: string,
    readonly granularity: Granularity,
    readonly start: number,
  ) {}

  static fromStored(b: StoredBucket): MemBucket {
    if (bucketStart(b.start, b.granularity) !== b.start) {
      throw new Error(`stored ${b.granularity} bucket of ${b.trackingId} starts off-boundary at ${b.start}`);
    }
    const m = new MemBucket(b.trackingId, b.granularity, b.start);
    m.totals = MemRow.fromStored(b.totals);
    for (const row of b.breakdowns) {
      const d = m.dimRows(row.dimension);
      d.rows.set(row.value, MemRow.fromStored(row));
      d.sorted = null;
      if (row.value !== OTHER) d.slots++;
    }
    return m;
  }

  private dimRows(dimension: Dimension): DimRows {
    let d = this.dims.get(dimension);
    if (d === undefined) {
      d = { rows: new Map(), sorted: null, slots: 0 };
      this.dims.set(dimension, d);
    }
    return d;
  }

  /**
   * The row a value's contributions go to. A value gets its own row when first seen while the
   * dimension has fewer than topK slots, otherwise OTHER. Because slots are never freed (rows
   * that drop to zero are kept), a value resolves to the same row for the bucket's whole life,
   * so a later retraction always lands where the contribution went and counters never go
   * negative; it also makes the result independent of batching and of store round trips.
   */
  row(dimension: Dimension, value: string, topK: number): MemRow {
    const d = this.dimRows(dimension);
    let r = d.rows.get(value);
    if (r !== undefined) return r;
    if (value !== OTHER && d.slots < topK) {
      r = new MemRow();
      d.rows.set(value, r);
      d.sorted = null;
      d.slots++;
      return r;
    }
    r = d.rows.get(OTHER);
    if (r === undefined) {
      r = new MemRow();
      d.rows.set(OTHER, r);
      d.sorted = null;
    }
    return r;
  }

  /** Stored form, breakdowns sorted by dimension (DIMENSIONS order) then value. */
  toStored(logicVersion: number): StoredBucket {
    const breakdowns: BreakdownRow[] = [];
    const dims = [...this.dims.keys()].sort((a, b) => DIM_ORDER.get(a)! - DIM_ORDER.get(b)!);
    for (const dimension of dims) {
      const d = this.dims.get(dimension)!;
      d.sorted ??= [...d.rows.keys()].sort(compareStrings);
      for (const value of d.sorted) breakdowns.push(d.rows.get(value)!.toBreakdownRow(dimension, value));
    }
    return {
      trackingId: this.trackingId,
      granularity: this.granularity,
      start: this.start,
      totals: this.totals.toRow(),
      breakdowns,
      logicVersion,
    };
  }
}

/** Code-unit order: locale-independent, so every process sorts the same way. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
