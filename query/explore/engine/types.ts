/**
 * The explore engine as the rest of the query role sees it: one parameterised statement in, plain
 * rows out, run on a worker thread (query/explore/engine/worker.ts) so a long scan never blocks
 * the event loop. Values are always bound ($1, $2, …), never spliced into SQL.
 */
import type { SegmentEventRow, SegmentVisitRow } from '../../../core/segments/schema.ts';

/** A bound value. Arrays bind as DuckDB lists (their element type is given by `listOf`). */
export type EngineParam = string | number | boolean | null | { listOf: 'VARCHAR' | 'BIGINT'; values: (string | number)[] };

/** Result rows: BIGINT as number (checked ≤ 2^53), lists as arrays, maps as objects. */
export type EngineRow = Record<string, unknown>;

export interface EngineRunOptions {
  /** Cancels the statement past this many ms: EngineError 'query_timeout'. Default: the configured one. */
  timeoutMs?: number;
}

export type EngineErrorCode = 'query_timeout' | 'engine_busy' | 'invalid_regex' | 'engine_failed' | 'engine_closed';

export class EngineError extends Error {
  constructor(readonly code: EngineErrorCode, message: string) {
    super(message);
    this.name = 'EngineError';
  }
}

export interface ExploreEngine {
  run(sql: string, params: readonly EngineParam[], options?: EngineRunOptions): Promise<EngineRow[]>;
  /**
   * Replaces the tail (the open, unsealed part of recent days) of one tracking ID in the
   * in-memory tables `tail_events` and `tail_visits` (same columns as segment files plus
   * `tracking_id`), in one transaction: a query sees the old tail or the new one.
   */
  replaceTail(trackingId: string, rows: { events: SegmentEventRow[]; visits: SegmentVisitRow[] }): Promise<void>;
  /** Checks a regular expression with the engine's own (RE2) syntax; resolves to an error message or null. */
  checkRegex(pattern: string): Promise<string | null>;
  /** Peak and current memory the engine reports, bytes. */
  memory(): Promise<{ currentBytes: number; peakBytes: number }>;
  close(): Promise<void>;
}
