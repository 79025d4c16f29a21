/** The rollup store port: the aggregator's exactly-once commits and the query service's reads (embedded: SQLite; cluster: Cassandra). */
import type { BucketKey, Dimension, SessionState, StoredBucket, BreakdownRow, RollupRow } from '../rollup/model.ts';
import type { Granularity } from '../time.ts';

/**
 * Everything one aggregator flush changes for one log partition, written atomically:
 * either all of it is visible, with the partition's checkpoint, or none of it.
 * After a crash the aggregator resumes after the checkpoint, so no event counts twice.
 */
export interface RollupCommit {
  partition: number;
  /** Offset of the next record to process after this commit. */
  nextOffset: number;
  buckets: StoredBucket[];
  /**
   * Visits kept for late events: for each visitor listed, ALL its kept visits (several per
   * visitor possible), which replace the visitor's stored set. Visitors not listed are unchanged.
   */
  sessions: SessionState[];
  /** Event IDs seen in this commit, for duplicate detection, with their receive time. */
  seen: { trackingId: string; eventId: string; at: number }[];
}

/**
 * A commit refused because another store instance claimed the partition after this one did
 * (fencing): the partition moved to another aggregator. Nothing of the commit is visible.
 */
export class PartitionFencedError extends Error {
  readonly code = 'partition_fenced';
  constructor(readonly partition: number) {
    super(`Partition ${partition} was claimed by another aggregator instance; this one no longer writes it (nothing of the refused commit is visible).`);
    this.name = 'PartitionFencedError';
  }
}

export interface RollupStore {
  /** Next offset to process for a partition; 0 when never committed. */
  checkpoint(partition: number): Promise<number>;
  /**
   * Fencing: makes this store instance the partition's one writer and returns its checkpoint.
   * The partition's owner epoch is raised by compare-and-set; from then on every commit of the
   * partition through an instance holding an older epoch is refused (PartitionFencedError) and
   * leaves nothing visible. The aggregator claims each partition it is assigned before its first
   * batch. An instance that commits a partition it never claimed claims it first.
   */
  claim(partition: number): Promise<number>;
  /** Writes the commit all-or-nothing; rejects with PartitionFencedError if another instance claimed the partition since. */
  commit(write: RollupCommit): Promise<void>;
  getBuckets(keys: readonly BucketKey[]): Promise<StoredBucket[]>;
  /** Every kept visit of these visitors (each visitor once, however often it is listed), per visitor by start. */
  getSessions(keys: readonly { trackingId: string; visitorId: string }[]): Promise<SessionState[]>;
  /** Which of these event IDs were already counted. */
  seenEventIds(trackingId: string, eventIds: readonly string[]): Promise<Set<string>>;
  /** Totals rows in [from, to) for one granularity, ordered by start. */
  readTotals(trackingId: string, granularity: Granularity, from: number, to: number): Promise<(RollupRow & { start: number })[]>;
  /** Breakdown rows of one dimension in [from, to), unmerged (one per bucket and value). */
  readBreakdown(trackingId: string, granularity: Granularity, from: number, to: number, dimension: Dimension): Promise<(BreakdownRow & { start: number })[]>;
  /** Drops visitors whose latest visit ended before `before` (with their earlier visits) and seen-IDs older than `seenBefore`. */
  prune(before: number, seenBefore: number): Promise<void>;
  /**
   * Tenant deletion: deletes a tracking ID's buckets whose start is in [from, to) (an adapter may
   * delete more: SQLite deletes all of them) and, where the store can find them, its sessions and
   * seen-IDs (Cassandra cannot list them by tracking ID: they expire with the usual pruning).
   */
  deleteTrackingId(trackingId: string, range: { from: number; to: number }): Promise<void>;
  close(): Promise<void>;
}
