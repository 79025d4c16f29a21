/**
 * The event log port: the collectors append enriched events, the archiver and the aggregator
 * consume them by group (embedded: SQLite; cluster: Kafka).
 */
import type { EnrichedEvent } from '../event.ts';

export interface LogRecord {
  partition: number;
  /** Position in the partition; the next record has offset + 1. */
  offset: number;
  event: EnrichedEvent;
}

export interface LogBatch {
  partition: number;
  records: LogRecord[];
}

export interface Subscription {
  /** Stops fetching, waits for the batch in flight, commits what was processed. */
  stop(): Promise<void>;
}

export interface SubscribeOptions {
  group: string;
  /** Called serially per partition; the group's offset is committed after it resolves. */
  onBatch(batch: LogBatch): Promise<void>;
  /** Called when partitions are assigned to this member (all of them in the embedded profile). */
  onAssign?(partitions: number[]): Promise<void> | void;
  onRevoke?(partitions: number[]): Promise<void> | void;
  maxBatch?: number;
}

export interface EventLog {
  readonly partitions: number;
  /** Appends events keyed by tracking ID; resolves once they are durable (the collector then answers 202). */
  append(events: readonly EnrichedEvent[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /** Reads up to `max` records of one partition from `fromOffset` (replays, tools). */
  read(partition: number, fromOffset: number, max: number): Promise<LogRecord[]>;
  /** Next offset to be written, per partition. */
  endOffsets(): Promise<number[]>;
  /** Next offset to be read by a group, per partition (0 when it never committed). */
  committedOffsets(group: string): Promise<number[]>;
  /**
   * The first offset of the partition whose record time is ≥ `ts` (ms), or the end offset when
   * there is none. Record time = when the record was appended (Kafka: the message timestamp,
   * the producer's clock at append; embedded: the append time). Replays find their range by it.
   */
  offsetForTime(partition: number, ts: number): Promise<number>;
  /**
   * The oldest record the partition still holds (retention trims older ones): its offset and
   * record time; `time` is undefined when the partition holds no record (then `offset` is the end
   * offset). `offset` 0 means nothing was ever trimmed.
   */
  earliest(partition: number): Promise<{ offset: number; time: number | undefined }>;
  close(): Promise<void>;
}

export function partitionFor(trackingId: string, partitions: number): number {
  // FNV-1a: stable across processes and profiles, so one partition owns a site.
  let h = 0x811c9dc5;
  for (let i = 0; i < trackingId.length; i++) {
    h ^= trackingId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}
