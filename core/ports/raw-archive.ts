/** The raw archive port: every enriched event, kept for replays and exports (embedded: SQLite; cluster: MongoDB). */
import type { EnrichedEvent } from '../event.ts';

export interface ArchiveQuery {
  trackingIds: string[];
  /** Inclusive lower, exclusive upper bound on event time (ms). */
  from: number;
  to: number;
}

export interface RawArchive {
  /** Idempotent by eventId: a duplicate counts as stored, not as an error. */
  insert(events: readonly EnrichedEvent[]): Promise<{ inserted: number; duplicates: number }>;
  /** Events in time order, in pages of `pageSize`. */
  scan(query: ArchiveQuery, pageSize?: number): AsyncIterable<EnrichedEvent[]>;
  count(query: ArchiveQuery): Promise<number>;
  /** Deletes events of a tracking ID older than `before`; returns how many. */
  deleteBefore(trackingId: string, before: number): Promise<number>;
  close(): Promise<void>;
}
