/**
 * Ingest counters per tracking ID: accepted, duplicate, rejected:<code>, bot:<reason>.
 * Counted in memory on the hot path and added to the registry every few seconds, so a
 * busy site costs one registry write per flush, not one per request.
 */
import type { Registry } from '../core/ports/index.ts';
import { dayOf } from '../core/time.ts';

export interface IngestCountersDeps {
  registry: Pick<Registry, 'addIngestCounts'>;
  now?: () => number;
  /** Told about a failed flush; the counts are kept and retried at the next flush. */
  onFlushError?: (err: unknown) => void;
}

export interface IngestCounters {
  /**
   * Counts `n` under `key` for a tracking ID. Pass trackingId null for requests that never
   * reached a known tracking ID (malformed JSON, unknown IDs): those are kept in the
   * in-memory totals only, so made-up IDs cannot create registry rows.
   */
  add(trackingId: string | null, key: string, n?: number): void;
  /** Totals since start, per tracking ID ('' for unattributed), for /healthz and metrics. */
  snapshot(): Record<string, Record<string, number>>;
  /** Writes pending counts to the registry now. */
  flush(): Promise<void>;
  /** Starts the periodic flush. */
  start(intervalMs: number): void;
  /** Stops the periodic flush and flushes what is pending. */
  stop(): Promise<void>;
}

export const UNATTRIBUTED = '';

export function createIngestCounters(deps: IngestCountersDeps): IngestCounters {
  const now = deps.now ?? Date.now;
  const totals = new Map<string, Map<string, number>>();
  // trackingId → day → key → n, waiting for the next flush
  let pending = new Map<string, Map<number, Map<string, number>>>();
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> | undefined;

  function bump(m: Map<string, number>, key: string, n: number) {
    m.set(key, (m.get(key) ?? 0) + n);
  }
  function child<K, V>(m: Map<K, V>, k: K, make: () => V): V {
    let v = m.get(k);
    if (v === undefined) m.set(k, (v = make()));
    return v;
  }

  async function doFlush(): Promise<void> {
    const batch = pending;
    pending = new Map();
    for (const [trackingId, days] of batch) {
      for (const [day, counts] of days) {
        try {
          await deps.registry.addIngestCounts(trackingId, day, Object.fromEntries(counts));
        } catch (err) {
          // Put them back: counts are additive, so retrying later loses nothing.
          const back = child(child(pending, trackingId, () => new Map()), day, () => new Map<string, number>());
          for (const [k, n] of counts) bump(back, k, n);
          deps.onFlushError?.(err);
        }
      }
    }
  }

  const counters: IngestCounters = {
    add(trackingId, key, n = 1) {
      if (n <= 0) return;
      bump(child(totals, trackingId ?? UNATTRIBUTED, () => new Map()), key, n);
      if (trackingId === null) return;
      bump(child(child(pending, trackingId, () => new Map()), dayOf(now()), () => new Map()), key, n);
    },
    snapshot() {
      return Object.fromEntries([...totals].map(([id, m]) => [id, Object.fromEntries(m)]));
    },
    flush() {
      // One flush at a time: a slow registry must not get overlapping writes of the same counts.
      flushing ??= doFlush().finally(() => (flushing = undefined));
      return flushing;
    },
    start(intervalMs) {
      if (timer) return;
      timer = setInterval(() => void counters.flush(), intervalMs);
      timer.unref(); // counters never keep the process alive
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await flushing;
      await counters.flush();
    },
  };
  return counters;
}
