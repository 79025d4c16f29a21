/**
 * The rollup data model: what the aggregator writes, the rollup store keeps and the query service reads.
 * The math that produces it lives in pipeline/rollup (pure functions); the math both sides use on it
 * (merging rows, derived metrics: counters.ts; stored labels: labels.ts) and the closed-bucket rule
 * (closed.ts) sit beside this file. This file only names the shapes.
 */
import type { Granularity } from '../time.ts';

/** Breakdown dimensions. Session-level ones take the value of the session's first event. */
export const DIMENSIONS = [
  'page', 'entry_page', 'exit_page', 'source',
  'utm_source', 'utm_medium', 'utm_campaign',
  'country', 'device', 'browser', 'os', 'event',
] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** The value used for everything past the top-K of a bucket's dimension. */
export const OTHER = '(other)';
/** The stored value of an empty dimension (core/rollup/labels.ts); the API may display it per dimension (query/labels.ts). */
export const NONE = '(none)';

/** Additive counters. Every field sums when buckets or rows merge. */
export interface Counters {
  pageviews: number;
  /** Custom events (type 'event'). */
  events: number;
  /** Sessions started in this bucket (a session ends after 30 min of inactivity). */
  visits: number;
  /** Sessions with a single interaction. */
  bounces: number;
  /** Sum of session durations (last event − first event), ms. */
  durationMs: number;
  /** Custom events that carried revenue. */
  conversions: number;
  /** Revenue in minor units (cents) per ISO currency. */
  revenue: Record<string, number>;
}

/** A serialisable HyperLogLog sketch (see core/sketch/hll.ts). */
export type SketchBytes = Uint8Array;

export interface BucketKey {
  trackingId: string;
  granularity: Granularity;
  /** UTC epoch ms of the bucket start. */
  start: number;
}

export interface RollupRow extends Counters {
  /** Unique-visitor sketch of this bucket (or of this breakdown value in this bucket). */
  visitors: SketchBytes;
}

export interface BreakdownRow extends RollupRow {
  dimension: Dimension;
  value: string;
}

/**
 * One time bucket of one tracking ID as stored. Minute buckets carry totals only;
 * hour and day buckets also carry breakdowns, each dimension capped at top-K values plus OTHER.
 */
export interface StoredBucket extends BucketKey {
  totals: RollupRow;
  breakdowns: BreakdownRow[];
  /** Version of the processing logic that produced this bucket (replays bump it). */
  logicVersion: number;
}

/**
 * The aggregator's view of one visit. Fully determined by the set of its events
 * (min/max timestamps, ties broken by eventId), so the order events arrive in does not matter.
 */
export interface SessionState {
  trackingId: string;
  visitorId: string;
  /** ts of the first event. */
  start: number;
  /** ts of the last event. */
  end: number;
  /** eventId of the first and the last event (tie-breaks). */
  firstEventId: string;
  lastEventId: string;
  entryPage: string;
  exitPage: string;
  pageviews: number;
  events: number;
  /** Session-level dimension values, from the first event. */
  source: string;
  utmSource: string;
  utmMedium: string;
  utmCampaign: string;
  country: string;
  device: string;
  browser: string;
  os: string;
}

export function emptyCounters(): Counters {
  return { pageviews: 0, events: 0, visits: 0, bounces: 0, durationMs: 0, conversions: 0, revenue: {} };
}
