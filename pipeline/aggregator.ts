/**
 * The aggregator: turns the event log into rollups, exactly once.
 *
 * How exactly-once holds (embedded and cluster alike):
 * - Events are keyed by tracking ID, so one log partition owns all of a site's events, and one
 *   aggregator instance at a time owns a partition (consumer group).
 * - Every flush of a partition is ONE atomic RollupCommit: the changed buckets, the changed
 *   sessions, the event IDs counted, and the partition's checkpoint (next offset to process).
 * - On (re)assignment the aggregator reads the checkpoint from the rollup store, not from the log's
 *   committed offset, and skips records below it. A crash between the rollup commit and the log's
 *   offset commit therefore replays records that are then skipped; a crash before the rollup
 *   commit loses only in-memory work, which is redone from the log.
 * - Fencing: before its first batch of a newly assigned partition the aggregator claims it in the
 *   rollup store (RollupStore.claim raises the partition's owner epoch by compare-and-set), and a
 *   commit through an instance whose epoch is no longer current is refused with nothing visible.
 *   So if a rebalance leaves a stale member still working on a partition it lost, its commits
 *   fail (PartitionFencedError) instead of doubling what the new owner counts; it drops the
 *   partition until the group assigns it again.
 * - Client retries (same eventId) are dropped against the seen-ID set kept for dedupWindowHours,
 *   which is written in the same commit, so a duplicate is dropped whether or not a crash happened.
 * - If a commit fails (store down), the partition's in-memory state is thrown away (it may hold
 *   changes the store does not have) and the batch is retried from the store's state with backoff:
 *   the aggregator pauses, lag grows, and it catches up when the store returns.
 * - Replays (pipeline/replay) run inside the aggregator that owns the site's partition: a chunk
 *   (one site, one UTC day) runs while no live batch of that partition runs, commits the day's
 *   buckets in one RollupCommit that leaves the checkpoint where it is, and the partition's
 *   in-memory state is dropped after it, so live ingestion and a replay never both write a bucket.
 */
import { PartitionFencedError, type Cache, type EventLog, type LogBatch, type LogRecord, type RawArchive, type Registry, type RollupStore, type Subscription } from '../core/ports/index.ts';
import type { EnrichedEvent } from '../core/event.ts';
import { bumpDataVersion } from '../core/data-version.ts';
import { HOUR_MS, dayOf } from '../core/time.ts';
import { isClosedBucket } from '../core/rollup/closed.ts';
import { historyFor, RollupState, type RollupOptions } from './rollup/index.ts';
import { DEFAULT_RUNNER_CONFIG, startReplayRunner, type ReplayRunner } from './replay/runner.ts';
import { sleep } from '../core/async.ts';
import { AGGREGATOR_GROUP } from '../core/consumer-groups.ts';


export interface AggregatorConfig {
  sessionTimeoutMs: number;
  topK: number;
  batchSize: number;
  dedupWindowHours: number;
  logicVersion: number;
  /** Replays: how often the registry is polled for runnable jobs (ms). Default 1000. */
  replayPollMs?: number;
  /** Replays: pause between two chunks of a job (ms). Default 0, or ALMANAC_REPLAY_PAUSE_MS. */
  replayPauseMs?: number;
  /**
   * The oldest event age the collector accepts (h). Visits late events may still join are kept
   * this long (plus the timeout and 1 h), and replays' recomputed visits this recent replace the live ones. Default 72.
   */
  maxEventAgeHours?: number;
  /**
   * BENCHMARK ONLY — false skips the duplicate bookkeeping (no seen-ID lookups or writes), to
   * measure what it costs. Client retries are then counted twice. Default true.
   */
  dedupBookkeeping?: boolean;
}

export interface AggregatorDeps {
  eventLog: EventLog;
  rollups: RollupStore;
  cache: Cache;
  now?: () => number;
  log?: (message: string) => void;
  /** Replay jobs (pipeline/replay) run when both are given. */
  registry?: Registry;
  archive?: RawArchive;
  /** Behaviour a test harness injects (tests/support/aggregator-hooks.ts); production passes none. */
  hooks?: AggregatorHooks;
}

export interface AggregatorHooks {
  /**
   * Called right after each rollup commit, before the log's offset commit: the crash window the
   * checkpoint exists for, which a crash test hits on purpose (it SIGKILLs the process here).
   */
  afterCommit?(commit: { partition: number; nextOffset: number; commits: number }): void;
  /**
   * A deliberately wrong logic, to test replays: the events of a batch it keeps are counted, the
   * others consumed (marked seen) but not counted, and buckets are stamped with its version.
   */
  logic?: { version: number; counted(events: readonly EnrichedEvent[]): EnrichedEvent[] };
}

export interface AggregatorStats {
  processed: number;
  duplicates: number;
  skippedBelowCheckpoint: number;
  commits: number;
  failedCommits: number;
  /** Commits refused because another instance had claimed the partition (fencing). */
  fencedCommits: number;
  /** Newest event time (ts) folded into rollups, per tracking ID: the freshness of its numbers. */
  newestEventTs: Record<string, number>;
  /** When the last commit happened (ms). */
  lastCommitAt: number | null;
}

export interface Aggregator {
  readonly id: 'aggregator';
  stats(): AggregatorStats;
  onShutdown(): Promise<void>;
}

const MAX_BACKOFF_MS = 10_000;

export async function startAggregator(deps: AggregatorDeps, config: AggregatorConfig): Promise<Aggregator> {
  const now = deps.now ?? Date.now;
  const log = deps.log ?? (() => {});
  const hooks = deps.hooks ?? {};
  if (hooks.logic) log(`aggregator: counting with an injected logic (logic version ${hooks.logic.version})`);
  const options: RollupOptions = {
    sessionTimeoutMs: config.sessionTimeoutMs, topK: config.topK, logicVersion: hooks.logic ? hooks.logic.version : config.logicVersion,
    // Every visit an accepted late event can join stays in the visitor's state.
    historyMs: historyFor(config.maxEventAgeHours ?? 72, config.sessionTimeoutMs),
  };
  const partitions = new Map<number, PartitionWork>();
  const stats: AggregatorStats = {
    processed: 0, duplicates: 0, skippedBelowCheckpoint: 0, commits: 0, failedCommits: 0, fencedCommits: 0, newestEventTs: {}, lastCommitAt: null,
  };
  let stopping = false;

  /** Partitions assigned to this instance and not yet claimed in the rollup store (fencing). */
  const toClaim = new Set<number>();

  async function own(partition: number): Promise<PartitionWork> {
    let work = partitions.get(partition);
    if (!work) {
      const checkpoint = toClaim.has(partition) ? await deps.rollups.claim(partition) : await deps.rollups.checkpoint(partition);
      toClaim.delete(partition);
      work = { checkpoint, state: new RollupState(options), lastEvictAt: now() };
      partitions.set(partition, work);
    }
    return work;
  }

  async function processOnce(work: PartitionWork, batch: LogBatch): Promise<void> {
    const fresh = batch.records.filter((r) => r.offset >= work.checkpoint);
    const skipped = batch.records.length - fresh.length;
    if (skipped > 0) {
      // Normal after a crash between a rollup commit and the log's offset commit: already counted.
      stats.skippedBelowCheckpoint += skipped;
      log(`aggregator: partition ${batch.partition}: skipped ${skipped} records below the checkpoint ${work.checkpoint} (counted before)`);
    }
    if (fresh.length === 0) return;
    const nextOffset = fresh[fresh.length - 1].offset + 1;

    const events = config.dedupBookkeeping === false ? fresh.map((r) => r.event) : await dropDuplicates(fresh);
    const counted = hooks.logic ? hooks.logic.counted(events) : events;
    const { state } = work;
    if (counted.length > 0) {
      state.loadSessions(await deps.rollups.getSessions(state.missingSessionKeys(counted)));
      state.loadBuckets(await deps.rollups.getBuckets(state.missingBucketKeys(counted)));
      state.apply(counted);
    }
    const dirty = state.takeDirty();
    const at = now();
    await deps.rollups.commit({
      partition: batch.partition,
      nextOffset,
      buckets: dirty.buckets,
      sessions: dirty.sessions,
      seen: config.dedupBookkeeping === false ? [] : events.map((e) => ({ trackingId: e.trackingId, eventId: e.eventId, at })),
    });
    work.checkpoint = nextOffset;
    stats.commits++;
    hooks.afterCommit?.({ partition: batch.partition, nextOffset, commits: stats.commits });
    stats.lastCommitAt = at;
    stats.processed += events.length;
    stats.duplicates += fresh.length - events.length;
    if (fresh.length > events.length) await countDuplicates(fresh, events, at);
    for (const e of events) {
      if ((stats.newestEventTs[e.trackingId] ?? 0) < e.ts) stats.newestEventTs[e.trackingId] = e.ts;
    }
    // Late events change closed buckets that queries cache for long: bump the site's data version.
    const lateSites = new Set(dirty.buckets.filter((b) => isClosedBucket(b, at)).map((b) => b.trackingId));
    await bumpDataVersions(lateSites);

    if (at - work.lastEvictAt > 60_000) {
      state.evictBefore(at - 2 * HOUR_MS - config.sessionTimeoutMs);
      work.lastEvictAt = at;
    }
  }

  /**
   * Bumps the data version of each site, and of every site whose bump failed before: while the
   * cache is down a bump cannot land, and if it were dropped, answers cached before the outage
   * would be served again once the cache is back (for the closed-range TTL, 10 min by default).
   * Pending bumps are also retried every second, so they land even when no new events arrive.
   */
  const pendingBumps = new Map<string, number>(); // site → when the bump was asked for (a sequence number)
  let bumpSeq = 0;
  async function bumpDataVersions(sites: Iterable<string>): Promise<void> {
    for (const site of sites) pendingBumps.set(site, ++bumpSeq);
    await Promise.all([...pendingBumps].map(([site, seq]) => bumpDataVersion(deps.cache, site, now).then(
      // Only a bump that started after the latest request for the site settles it.
      () => void (pendingBumps.get(site) === seq && pendingBumps.delete(site)),
      () => {},
    )));
  }
  let retryingBumps = false;
  const bumpRetry = setInterval(() => {
    if (pendingBumps.size === 0 || retryingBumps) return;
    retryingBumps = true;
    void bumpDataVersions([]).finally(() => (retryingBumps = false));
  }, 1000);
  bumpRetry.unref();

  /**
   * Adds the duplicates just dropped to each site's ingest counters (`duplicate`, beside the
   * collector's in-request repeats), where the admin API's trackingIds.counts reads them: only
   * here is a resend from an earlier request known. After the commit and best effort: a crash or
   * a registry error in between loses these counts, never the exactly-once of the rollups.
   */
  async function countDuplicates(fresh: readonly LogRecord[], kept: readonly EnrichedEvent[], at: number): Promise<void> {
    const bySite = new Map<string, number>();
    for (const r of fresh) bySite.set(r.event.trackingId, (bySite.get(r.event.trackingId) ?? 0) + 1);
    for (const e of kept) bySite.set(e.trackingId, bySite.get(e.trackingId)! - 1);
    for (const [site, n] of bySite) {
      if (n > 0) await deps.registry?.addIngestCounts(site, dayOf(at), { duplicate: n }).catch((err: Error) => log(`aggregator: duplicate counts of ${site} not recorded: ${err.message}`));
    }
  }

  /** Drops events whose eventId was already counted (earlier commit) or repeats within the batch. */
  async function dropDuplicates(records: readonly LogRecord[]): Promise<EnrichedEvent[]> {
    const bySite = new Map<string, EnrichedEvent[]>();
    for (const r of records) {
      const list = bySite.get(r.event.trackingId);
      if (list) list.push(r.event);
      else bySite.set(r.event.trackingId, [r.event]);
    }
    const seenBefore = new Map<string, Set<string>>();
    for (const [site, list] of bySite) {
      seenBefore.set(site, await deps.rollups.seenEventIds(site, list.map((e) => e.eventId)));
    }
    const out: EnrichedEvent[] = [];
    for (const r of records) {
      const seen = seenBefore.get(r.event.trackingId)!;
      if (seen.has(r.event.eventId)) continue;
      seen.add(r.event.eventId);
      out.push(r.event);
    }
    return out;
  }

  // ---- one thing at a time per partition: a live batch or a replay chunk.
  const owned = new Set<number>();
  const locks = new Map<number, Promise<void>>();
  function exclusive<T>(partition: number, fn: () => Promise<T>): Promise<T> {
    const run = (locks.get(partition) ?? Promise.resolve()).then(fn);
    locks.set(partition, run.then(() => {}, () => {}));
    return run;
  }

  const subscription: Subscription = await deps.eventLog.subscribe({
    group: AGGREGATOR_GROUP,
    maxBatch: config.batchSize,
    onAssign(assigned) {
      log(`aggregator: assigned partitions ${assigned.join(',')}`);
      for (const p of assigned) {
        owned.add(p);
        toClaim.add(p);
        partitions.delete(p);
      }
    },
    async onRevoke(revoked) {
      log(`aggregator: revoked partitions ${revoked.join(',')}`);
      for (const p of revoked) {
        owned.delete(p);
        toClaim.delete(p);
      }
      // A replay chunk in flight sees the partition gone and does not commit; wait for it.
      await Promise.all(revoked.map((p) => exclusive(p, async () => {})));
      for (const p of revoked) partitions.delete(p);
    },
    onBatch: (batch) => exclusive(batch.partition, async () => {
      let backoff = 200;
      for (;;) {
        // A partition this instance was fenced out of waits for the group to assign it again.
        if (!owned.has(batch.partition)) throw new PartitionFencedError(batch.partition);
        const work = await own(batch.partition).catch(() => undefined);
        try {
          if (!work) throw new Error('cannot read the partition checkpoint');
          await processOnce(work, batch);
          return;
        } catch (error) {
          // The in-memory state may now hold changes the store never got: rebuild it from the store.
          partitions.delete(batch.partition);
          if (error instanceof PartitionFencedError) {
            stats.fencedCommits++;
            owned.delete(batch.partition);
            log(`aggregator: partition ${batch.partition} was claimed by another instance; dropping it until it is assigned here again`);
            throw error;
          }
          stats.failedCommits++;
          if (stopping) throw error;
          log(`aggregator: partition ${batch.partition} batch failed (${(error as Error).message}); retrying in ${backoff} ms`);
          await sleep(backoff);
          backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        }
      }
    }),
  });

  let replays: ReplayRunner | undefined;
  if (deps.registry && deps.archive) {
    replays = startReplayRunner({
      registry: deps.registry,
      archive: deps.archive,
      rollups: deps.rollups,
      eventLog: deps.eventLog,
      now,
      log,
      host: {
        owns: (p) => owned.has(p),
        exclusive: (p, fn) => exclusive(p, async () => {
          if (!owned.has(p)) throw new Error(`partition ${p} is not owned by this aggregator`);
          try {
            return await fn(await deps.rollups.checkpoint(p));
          } finally {
            // The chunk may have replaced buckets and sessions this state holds: reload from the store.
            partitions.delete(p);
          }
        }),
        bumpDataVersions: (sites) => bumpDataVersions(sites),
      },
    }, {
      ...DEFAULT_RUNNER_CONFIG,
      options,
      dedupWindowHours: config.dedupWindowHours,
      maxEventAgeHours: config.maxEventAgeHours ?? 72,
      pollMs: config.replayPollMs ?? DEFAULT_RUNNER_CONFIG.pollMs,
      pauseMs: config.replayPauseMs ?? DEFAULT_RUNNER_CONFIG.pauseMs,
    });
  }

  return {
    id: 'aggregator',
    stats: () => ({ ...stats, newestEventTs: { ...stats.newestEventTs } }),
    async onShutdown() {
      stopping = true;
      await replays?.stop();
      await subscription.stop();
      clearInterval(bumpRetry);
      await bumpDataVersions([]);
    },
  };
}

interface PartitionWork {
  checkpoint: number;
  state: RollupState;
  lastEvictAt: number;
}
