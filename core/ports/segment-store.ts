/**
 * The segment store port: explore segments (immutable Parquet files, per tracking ID and UTC day)
 * and the manifest that says which files make up each day. Embedded: files in the data folder,
 * manifest in SQLite. Cluster: files as 1 MiB chunks in Cassandra, manifest in Cassandra, with a
 * bounded local cache on each query node. See docs/design/explore.md, section 2.
 */

export type SegmentKind = 'events' | 'visits';

export interface SegmentFile {
  /** sha256 of the file's bytes, hex: the file's name, never overwritten. */
  id: string;
  kind: SegmentKind;
  rows: number;
  bytes: number;
  /** Smallest and largest `ts` (events) or `start_ts` (visits) in the file, ms; 0/0 when empty. */
  minTs: number;
  maxTs: number;
}

export interface SegmentDay {
  trackingId: string;
  /** UTC day start, ms. */
  day: number;
  /** 1, 2, …; publish is a compare-and-set on it. */
  version: number;
  /** The whole day: every part of both kinds. */
  files: SegmentFile[];
  /** Version of the segment logic (sessionizer, channel map) that built it. */
  logicVersion: number;
  builtAt: number;
  /** Archive completeness the build saw: the newest receivedAt it could have read, ms. */
  archiveThrough: number;
  /** Late events or a replay touched the day after this version was built; null when clean. */
  dirtySince: number | null;
}

export interface SegmentStore {
  /** Published days of a tracking ID with fromDay ≤ day ≤ toDay, by day. */
  manifest(trackingId: string, fromDay: number, toDay: number): Promise<SegmentDay[]>;
  /** Stores a finished local file under its sha256; returns the id. Idempotent. */
  upload(localPath: string): Promise<string>;
  /**
   * Makes `next` the day's published version if the current one is `expectedVersion`
   * (0 = none yet). The one-step swap: queries see the old version or the new, never a mix.
   * Clears the dirty mark if it was not set again after `next.builtAt`. false = lost the race.
   */
  publish(next: SegmentDay, expectedVersion: number): Promise<boolean>;
  /** Marks a day for rebuild (idempotent; keeps the earliest mark). A day never published is created dirty with version 0 and no files. */
  markDirty(trackingId: string, day: number, at: number): Promise<void>;
  /** Days with a dirty mark, oldest mark first. */
  dirtyDays(limit: number): Promise<SegmentDay[]>;
  /** A readable local path of the file (embedded: the file itself; cluster: the cache copy, fetched if missing). */
  localPath(fileId: string): Promise<string>;
  /** Deletes the days of a tracking ID that start before `day` (manifest and files); returns how many days. */
  deleteDaysBefore(trackingId: string, day: number): Promise<number>;
  /** Deletes every day and file of a tracking ID (tenant deletion). */
  deleteTrackingId(trackingId: string): Promise<void>;
  /** Deletes files no published day references that were superseded or uploaded more than `olderThanMs` ago; returns how many. */
  collectGarbage(olderThanMs: number): Promise<number>;
  close(): Promise<void>;
}
