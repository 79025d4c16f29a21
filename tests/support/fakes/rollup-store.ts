/**
 * The rollup store in memory, storing deep copies (like a real serialisation); counts reads.
 * Sessions are kept per visitor: a write replaces the whole set of each visitor it lists.
 * Besides the port, `put`, `write`, `bucketsOf`, `sessionsOf` and `all` fill and read it
 * synchronously, for tests that drive RollupState by hand.
 */
import type { RollupCommit, RollupStore } from '../../../core/ports/index.ts';
import type { BreakdownRow, BucketKey, Dimension, RollupRow, SessionState, StoredBucket } from '../../../core/rollup/model.ts';
import type { Granularity } from '../../../core/time.ts';
import { compareBucketKeys, type RollupDiff, type VisitorKey } from '../../../pipeline/rollup/state.ts';

export interface MemoryRollupStoreOptions {
  /** Each read waits this long first (to let concurrent requests pile up). */
  readDelayMs?: number;
}

export class MemoryRollupStore implements RollupStore {
  private readonly buckets = new Map<string, StoredBucket>();
  private readonly sessions = new Map<string, SessionState[]>();
  private readonly checkpoints = new Map<number, number>();
  /** readTotals + readBreakdown calls. */
  reads = 0;

  constructor(private readonly options: MemoryRollupStoreOptions = {}) {}

  put(buckets: readonly StoredBucket[]): this {
    for (const b of buckets) this.buckets.set(bucketId(b), structuredClone(b));
    return this;
  }

  /** Buckets and the visits of each visitor listed, as a commit writes them. */
  write(diff: RollupDiff): void {
    this.put(diff.buckets);
    const written = new Set<string>();
    for (const s of diff.sessions) {
      const id = visitorId(s);
      if (!written.has(id)) this.sessions.set(id, []);
      written.add(id);
      this.sessions.get(id)!.push(structuredClone(s));
    }
  }

  bucketsOf(keys: readonly BucketKey[]): StoredBucket[] {
    return keys.flatMap((k) => {
      const b = this.buckets.get(bucketId(k));
      return b === undefined ? [] : [structuredClone(b)];
    });
  }

  sessionsOf(keys: readonly VisitorKey[]): SessionState[] {
    const ids = new Set(keys.map(visitorId));
    return [...ids].flatMap((id) => structuredClone(this.sessions.get(id) ?? []));
  }

  /** Everything held, buckets in key order, visits by site, visitor and start. */
  all(): RollupDiff {
    const buckets = [...this.buckets.values()].sort(compareBucketKeys);
    const sessions = [...this.sessions.values()].flat().sort((a, b) =>
      a.trackingId < b.trackingId ? -1 : a.trackingId > b.trackingId ? 1 : a.visitorId < b.visitorId ? -1 : a.visitorId > b.visitorId ? 1 : a.start - b.start,
    );
    return { buckets, sessions };
  }

  async checkpoint(partition: number): Promise<number> {
    return this.checkpoints.get(partition) ?? 0;
  }

  /** One process, one instance: nothing to fence. */
  async claim(partition: number): Promise<number> {
    return this.checkpoint(partition);
  }

  async commit(write: RollupCommit): Promise<void> {
    this.write(write);
    this.checkpoints.set(write.partition, write.nextOffset);
  }

  async getBuckets(keys: readonly BucketKey[]): Promise<StoredBucket[]> {
    return this.bucketsOf(keys);
  }

  async getSessions(keys: readonly VisitorKey[]): Promise<SessionState[]> {
    return this.sessionsOf(keys);
  }

  async seenEventIds(): Promise<Set<string>> {
    return new Set();
  }

  async readTotals(trackingId: string, granularity: Granularity, from: number, to: number): Promise<(RollupRow & { start: number })[]> {
    await this.delay();
    return this.select(trackingId, granularity, from, to).map((b) => ({ ...b.totals, start: b.start }));
  }

  async readBreakdown(trackingId: string, granularity: Granularity, from: number, to: number, dimension: Dimension): Promise<(BreakdownRow & { start: number })[]> {
    await this.delay();
    return this.select(trackingId, granularity, from, to).flatMap((b) => b.breakdowns.filter((r) => r.dimension === dimension).map((r) => ({ ...r, start: b.start })));
  }

  async prune(): Promise<void> {}
  async deleteTrackingId(trackingId: string, range: { from: number; to: number }): Promise<void> {
    for (const [k, b] of this.buckets) if (b.trackingId === trackingId && b.start >= range.from && b.start < range.to) this.buckets.delete(k);
  }
  async close(): Promise<void> {}

  private select(trackingId: string, granularity: Granularity, from: number, to: number): StoredBucket[] {
    this.reads++;
    return [...this.buckets.values()]
      .filter((b) => b.trackingId === trackingId && b.granularity === granularity && b.start >= from && b.start < to)
      .sort((a, b) => a.start - b.start);
  }

  private delay(): Promise<void> {
    const ms = this.options.readDelayMs ?? 0;
    return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
  }
}

function bucketId(k: BucketKey): string {
  return `${k.trackingId}\u0000${k.granularity}\u0000${k.start}`;
}

function visitorId(k: VisitorKey): string {
  return `${k.trackingId}\u0000${k.visitorId}`;
}
