/**
 * The event log as a replay source: the RawArchive-shaped reads a chunk needs (`scan`, `count`
 * over {trackingIds, from, to}, events in (ts, eventId) order), served from one log partition.
 *
 * Which records: those of the partition below `endOffset` — the partition's checkpoint while the
 * chunk holds the partition, i.e. exactly the records the live aggregator has consumed (it counted
 * each eventId once: duplicates are dropped here too, the first by offset wins, as in the archive
 * and the live path). Records at or after the checkpoint are left to the live path.
 *
 * Where in the partition: an event's time is bounded by its record time (the append time: the
 * Kafka message timestamp, the producer's clock; the append time in the embedded log), which
 * follows receivedAt by at most seconds (the collector answers 503 rather than queue for long):
 * the collector clamps ts to ≤ receivedAt and rejects ts older than receivedAt − maxEventAge. So
 * the events of [from, to) lie between
 * offsetForTime(from − clockSkew − margin) and offsetForTime(to + maxEventAge + margin); the skew
 * and the margin absorb clock differences between collectors and record times slightly out of
 * order (several producers). Reads of one source are cached, so the warm-up and look-ahead reads
 * of a chunk only fetch the offsets not read yet.
 */
import type { EnrichedEvent } from '../../core/event.ts';
import type { ArchiveQuery, EventLog } from '../../core/ports/index.ts';

/** What a chunk reads events from: the raw archive, or the event log through logSource. */
export interface ReplaySource {
  scan(query: ArchiveQuery, pageSize?: number): AsyncIterable<EnrichedEvent[]>;
  count(query: ArchiveQuery): Promise<number>;
}

export interface LogSourceOptions {
  eventLog: Pick<EventLog, 'read' | 'offsetForTime' | 'earliest'>;
  partition: number;
  /** Records at and after this offset are not read (the live path has not counted them). */
  endOffset: number;
  /** Oldest event age the collector accepts (ts ≥ receivedAt − maxEventAge). */
  maxEventAgeMs: number;
  /** Clock difference allowed between the collector and the device (future skew). */
  clockSkewMs: number;
  /** Extra room on both sides of the offset window. */
  marginMs: number;
  /** Records per log read. Default 10 000. */
  readBatch?: number;
}

/** Counters of a log source, for logs and the bench. */
export interface LogSourceStats {
  recordsRead: number;
  reads: number;
}

export function logSource(options: LogSourceOptions): ReplaySource & { stats: LogSourceStats } {
  const { eventLog, partition, endOffset } = options;
  const batch = options.readBatch ?? 10_000;
  const stats: LogSourceStats = { recordsRead: 0, reads: 0 };
  // Records of the cached sites in offset order, over the offsets [lo, hi) read so far.
  let cache: { key: string; ids: Set<string>; lo: number; hi: number; records: { offset: number; event: EnrichedEvent }[] } | undefined;

  async function readRange(ids: Set<string>, from: number, to: number): Promise<{ offset: number; event: EnrichedEvent }[]> {
    const out: { offset: number; event: EnrichedEvent }[] = [];
    let next = from;
    let first = true;
    while (next < to) {
      const page = await eventLog.read(partition, next, Math.min(batch, to - next));
      stats.reads++;
      if (page.length === 0) break;
      if (first && page[0].offset > from && (await eventLog.earliest(partition)).offset > from) {
        // Retention trimmed records this read needs: the chunk fails, and its retry reads the archive.
        throw new Error(`the event log no longer holds partition ${partition} from offset ${from} (trimmed while reading)`);
      }
      first = false;
      for (const r of page) {
        if (r.offset >= to) break;
        stats.recordsRead++;
        if (ids.has(r.event.trackingId)) out.push({ offset: r.offset, event: r.event });
      }
      next = page[page.length - 1].offset + 1;
    }
    return out;
  }

  /** The counted events of these sites with ts in [from, to), once per eventId, in (ts, eventId) order. */
  async function events(query: ArchiveQuery): Promise<EnrichedEvent[]> {
    if (query.from >= query.to || query.trackingIds.length === 0) return [];
    const [lo, upper] = await Promise.all([
      eventLog.offsetForTime(partition, query.from - options.clockSkewMs - options.marginMs),
      eventLog.offsetForTime(partition, query.to + options.maxEventAgeMs + options.marginMs),
    ]);
    const hi = Math.min(endOffset, upper);
    const ids = new Set(query.trackingIds);
    const key = [...ids].sort().join('\u0000');
    if (lo < hi) {
      if (!cache || cache.key !== key || hi < cache.lo || lo > cache.hi) cache = { key, ids, lo, hi: lo, records: [] };
      if (lo < cache.lo) {
        cache.records = (await readRange(ids, lo, cache.lo)).concat(cache.records);
        cache.lo = lo;
      }
      if (hi > cache.hi) {
        for (const r of await readRange(ids, cache.hi, hi)) cache.records.push(r);
        cache.hi = hi;
      }
    }
    if (!cache || cache.key !== key) return [];
    // Every cached record is below endOffset, so counted; the offset window only saves reading.
    const seen = new Set<string>();
    const out: EnrichedEvent[] = [];
    for (const { event } of cache.records) {
      if (seen.has(event.eventId)) continue;
      seen.add(event.eventId);
      if (event.ts >= query.from && event.ts < query.to) out.push(event);
    }
    return out.sort((a, b) => a.ts - b.ts || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
  }

  return {
    stats,
    async *scan(query, pageSize = 10_000) {
      const all = await events(query);
      for (let i = 0; i < all.length; i += pageSize) yield all.slice(i, i + pageSize);
    },
    async count(query) {
      return (await events(query)).length;
    },
  };
}

/**
 * Whether the partition still holds every record from `since` (record time) on: nothing was
 * ever trimmed, or its oldest retained record is at or before `since`.
 */
export async function logHoldsSince(eventLog: Pick<EventLog, 'earliest'>, partition: number, since: number): Promise<{ ok: boolean; oldest: number | undefined }> {
  const first = await eventLog.earliest(partition);
  return { ok: first.offset === 0 || (first.time !== undefined && first.time <= since), oldest: first.time };
}
