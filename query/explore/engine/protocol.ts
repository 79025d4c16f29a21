/**
 * Messages between the explore engine's client (main thread) and its worker thread. Plain data
 * only: everything here crosses a thread boundary by structured clone.
 */
import type { SegmentEventRow, SegmentVisitRow } from '../../../core/segments/schema.ts';
import type { EngineErrorCode, EngineParam, EngineRow } from './types.ts';

/** What the engine is given at start: validated by appliance/main/config.ts (section `explore`). */
export interface EngineSettings {
  /** DuckDB worker threads. */
  threads: number;
  /** DuckDB's memory_limit, MiB: one limit for every query and the tail tables. */
  memoryMb: number;
  /** Spill folder (also where the tail's load files go); created if missing. */
  tempDir: string;
  /** Most a query may spill, MiB. */
  tempMb: number;
  /** Folders queries may read (segment roots, the segment cache); everything else is refused. */
  readableDirs: string[];
  /** Statements run at once (one DuckDB connection each). */
  concurrency: number;
  /** Statements waiting beyond those; more gives EngineError 'engine_busy'. */
  queueDepth: number;
  /** Default cancel time of a statement, ms. */
  timeoutMs: number;
}

export type ToWorker =
  | { id: number; op: 'run'; sql: string; params: EngineParam[]; timeoutMs: number }
  | { id: number; op: 'replaceTail'; trackingId: string; events: SegmentEventRow[]; visits: SegmentVisitRow[] }
  | { id: number; op: 'checkRegex'; pattern: string }
  | { id: number; op: 'memory' }
  | { id: number; op: 'close' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { id: number; ok: true; rows?: EngineRow[]; value?: unknown }
  | { id: number; ok: false; code: EngineErrorCode; message: string };

/** The tail tables: segment columns plus the tracking ID and the UTC day start of `ts`/`start_ts`. */
export const TAIL_EVENTS = 'tail_events';
export const TAIL_VISITS = 'tail_visits';
