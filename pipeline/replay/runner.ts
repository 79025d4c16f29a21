/**
 * The replay runner: lives inside an aggregator and executes the replay jobs of the sites whose
 * log partitions that aggregator owns, one chunk (one site, one UTC day) at a time, each chunk
 * while no live batch of the partition runs (see README.md in this folder).
 */
import type { EventLog, RawArchive, ReplayDryRunReport, ReplayJob, ReplayJobRegistry, ReplayProgress, RollupStore } from '../../core/ports/index.ts';
import { partitionFor } from '../../core/ports/index.ts';
import type { SessionState } from '../../core/rollup/model.ts';
import { DAY_MS, HOUR_MS } from '../../core/time.ts';
import { AGGREGATOR_GROUP, ARCHIVER_GROUP } from '../../core/consumer-groups.ts';
import { DEFAULT_MAX_FUTURE_SKEW_MS } from '../../core/event.ts';
import type { RollupOptions } from '../rollup/index.ts';
import { countedBy, DEFAULT_MAX_LOOKBACK_MS, recomputeDay, sameFigures, type DayResult } from './chunk.ts';
import { logHoldsSince, logSource } from './log-source.ts';
import { dayKey } from './days.ts';
import { sleep } from '../../core/async.ts';

/** What the aggregator gives the runner. */
export interface ReplayHost {
  /** Whether this aggregator owns the partition now. */
  owns(partition: number): boolean;
  /**
   * Runs `fn` while no live batch of the partition runs, with the partition's checkpoint. The
   * partition's in-memory rollup state is dropped afterwards (the next batch reloads it from the
   * store, which the chunk may have changed). Rejects if the partition is not owned.
   */
  exclusive<T>(partition: number, fn: (checkpoint: number) => Promise<T>): Promise<T>;
  /** Bumps the data versions of these sites (query caches); retried until it lands. */
  bumpDataVersions(sites: string[]): Promise<void>;
}

export interface ReplayRunnerDeps {
  registry: ReplayJobRegistry;
  archive: RawArchive;
  rollups: RollupStore;
  eventLog: Pick<EventLog, 'partitions' | 'committedOffsets' | 'read' | 'offsetForTime' | 'earliest'>;
  host: ReplayHost;
  now?: () => number;
  log?: (message: string) => void;
}

export interface ReplayRunnerConfig {
  /** The current logic: a replay writes buckets stamped with options.logicVersion. */
  options: RollupOptions;
  dedupWindowHours: number;
  /** Recomputed visits that may still get late events (this recent) replace the live ones. */
  maxEventAgeHours: number;
  /** How often the registry is asked for runnable jobs. */
  pollMs: number;
  /** Pause between two chunks of a job (leaves the stores room). */
  pauseMs: number;
  /** How long a chunk waits for the archiver to reach the aggregator's committed offset, before taking the partition. */
  archiverWaitMs: number;
  /** How long it then waits, holding the partition (live batches wait too), for the archiver to reach the checkpoint. */
  lockedArchiverWaitMs: number;
  /** A job whose next chunk keeps failing this long is marked failed. */
  failAfterMs: number;
  /** Log source: the future clock skew the collector tolerates (it clamps ts to the receive time). */
  clockSkewMs: number;
  /** Log source: extra room around the offset window found by record time. */
  logMarginMs: number;
}

export const DEFAULT_RUNNER_CONFIG = {
  pollMs: 1000, pauseMs: 0, archiverWaitMs: 30_000, lockedArchiverWaitMs: 5_000, failAfterMs: 10 * 60_000,
  clockSkewMs: DEFAULT_MAX_FUTURE_SKEW_MS, logMarginMs: HOUR_MS,
} as const;

/**
 * The record time from which the log must hold everything to replay the day starting at `day`
 * (or a range starting there) from it: the chunk's warm-up reads back at most 2 days, and the
 * reader's offset window starts a skew and a margin before that.
 */
export function logNeededSince(day: number, config: Pick<ReplayRunnerConfig, 'clockSkewMs' | 'logMarginMs'> = DEFAULT_RUNNER_CONFIG): number {
  return day - DEFAULT_MAX_LOOKBACK_MS - config.clockSkewMs - config.logMarginMs;
}

export interface ReplayRunner {
  /** Chunks done since start (for stats and tests). */
  chunks(): number;
  /** Stops polling and waits for the chunk in flight; a running job stays 'running' and is resumed by the next owner. */
  stop(): Promise<void>;
}

class NotOwned extends Error {}

export function startReplayRunner(deps: ReplayRunnerDeps, config: ReplayRunnerConfig): ReplayRunner {
  const now = deps.now ?? Date.now;
  const log = deps.log ?? (() => {});
  const { registry, host } = deps;
  const T = config.options.sessionTimeoutMs;
  let stopping = false;
  let chunksDone = 0;
  let wake: () => void = () => {};
  const failingSince = new Map<string, number>();
  const warned = new Set<string>();

  /** A pause that stop() cuts short. */
  const pause = (ms: number) => {
    const woken = new AbortController();
    wake = () => woken.abort();
    return sleep(ms, woken.signal);
  };

  const loop = (async () => {
    while (!stopping) {
      try {
        for (const job of await registry.listReplayJobs({ status: ['queued', 'running'] })) {
          if (stopping) break;
          await advance(job);
        }
      } catch (error) {
        log(`replay: polling the registry failed (${(error as Error).message}); retrying`);
      }
      if (!stopping) await pause(config.pollMs);
    }
  })();

  function siteOf(job: ReplayJob, unit: number): { site: string; day: number; partition: number } {
    const days = dayCount(job);
    const site = job.trackingIds[Math.floor(unit / days)];
    return { site, day: job.from + (unit % days) * DAY_MS, partition: partitionFor(site, deps.eventLog.partitions) };
  }

  /** Runs the job's chunks for as long as this aggregator owns the site of the next one. */
  async function advance(job: ReplayJob): Promise<void> {
    if (job.logicVersion > config.options.logicVersion) {
      if (!warned.has(job.id)) log(`replay ${job.id}: wants logic version ${job.logicVersion}, this aggregator runs ${config.options.logicVersion}; left to an upgraded aggregator`);
      warned.add(job.id);
      return;
    }
    const total = job.progress.daysTotal;
    // The owner of the site of the next day (or of the last one, to close a job whose last chunk
    // was committed just before a crash) acts on the job: one writer at a time.
    const { partition } = siteOf(job, Math.min(job.progress.daysDone, total - 1));
    if (!host.owns(partition)) return;
    if (job.cancelRequested) {
      await finish(job, 'cancelled');
      return;
    }
    if (job.source !== 'archive' && job.source !== 'log') {
      await finish(job, 'failed', `unknown source '${String(job.source)}'; replay from 'log' or 'archive'`);
      return;
    }
    if (job.progress.daysDone >= total) {
      await finish(job, 'done');
      return;
    }
    if (job.status === 'queued') {
      const eventsTotal = await deps.archive.count({ trackingIds: job.trackingIds, from: job.from, to: job.to });
      job = await registry.updateReplayJob(job.id, {
        status: 'running', startedAt: now(), logicVersion: config.options.logicVersion,
        progress: { ...job.progress, eventsTotal },
      });
      log(`replay ${job.id}: started (${job.trackingIds.join(', ')}, ${dayKey(job.from)} to ${dayKey(job.to - DAY_MS)}, ${eventsTotal} events, from the ${job.source === 'log' ? 'event log' : 'archive'}${job.dryRun ? ', dry run' : ''})`);
    }

    while (!stopping) {
      const unit = job.progress.daysDone;
      const { site, day, partition: p } = siteOf(job, unit);
      if (!host.owns(p)) return;
      const started = now();
      let result: DayResult;
      let fromLog = false;
      try {
        if (job.source === 'log') {
          // Retention may have passed since the job started: then this day comes from the archive.
          const held = await logHoldsSince(deps.eventLog, p, logNeededSince(day, config));
          fromLog = held.ok;
          if (!held.ok) log(`replay ${job.id}: ${site} ${dayKey(day)}: the event log no longer holds partition ${p} from ${new Date(logNeededSince(day, config)).toISOString()} (oldest record ${held.oldest === undefined ? 'none' : new Date(held.oldest).toISOString()}); this day is read from the archive`);
        }
        // Without holding the partition first: an archiver that is far behind (or not running)
        // must not stall the partition's live batches. The log source needs no archiver.
        if (!fromLog) await waitForArchiver(p, async () => (await deps.eventLog.committedOffsets(AGGREGATOR_GROUP))[p] ?? 0, config.archiverWaitMs);
        result = await host.exclusive(p, (checkpoint) => runChunk(job, site, day, p, checkpoint, fromLog));
      } catch (error) {
        if (error instanceof NotOwned || !host.owns(p)) return;
        const since = failingSince.get(job.id) ?? started;
        failingSince.set(job.id, since);
        const message = `${site} ${dayKey(day)}: ${(error as Error).message}`;
        if (now() - since > config.failAfterMs) {
          failingSince.delete(job.id);
          await finish(job, 'failed', `${message} (failing for ${Math.round((now() - since) / 1000)} s)`);
        } else log(`replay ${job.id}: chunk failed (${message}); retrying`);
        return;
      }
      failingSince.delete(job.id);
      chunksDone++;
      log(`replay ${job.id}: ${site} ${dayKey(day)}${fromLog ? ' (event log)' : ''}: ${result.eventsInDay} events (${result.eventsLeftToLive} not yet counted, left to the live path), ${result.buckets.length} buckets${job.dryRun ? ' compared' : ''}, ${now() - started} ms`);
      if (!job.dryRun) await host.bumpDataVersions([site]);

      const current = (await registry.getReplayJob(job.id)) ?? job;
      const progress = nextProgress(current.progress, result, now() - started);
      let dryRunReport: ReplayDryRunReport | null = current.dryRunReport;
      if (job.dryRun) {
        const report = dryRunReport ?? { daysCompared: 0, days: [] };
        dryRunReport = {
          daysCompared: report.daysCompared + 1,
          days: sameFigures(result.old, result.new) ? report.days : [...report.days, { trackingId: site, day: dayKey(day), old: result.old, new: result.new }],
        };
      }
      const done = progress.daysDone >= progress.daysTotal;
      job = await registry.updateReplayJob(job.id, {
        progress, dryRunReport,
        ...(done ? { status: 'done' as const, finishedAt: now() } : current.cancelRequested ? { status: 'cancelled' as const, finishedAt: now() } : {}),
      });
      if (job.status !== 'running') {
        log(`replay ${job.id}: ${job.status} (${progress.daysDone}/${progress.daysTotal} days, ${progress.eventsDone} events, ${progress.eventsPerSec} events/s)`);
        return;
      }
      if (config.pauseMs > 0) {
        await pause(config.pauseMs);
        // A cancel asked for during the pause stops the job before its next day.
        const latest = await registry.getReplayJob(job.id);
        if (latest?.cancelRequested) {
          await finish(job, 'cancelled');
          return;
        }
      }
    }
  }

  async function runChunk(job: ReplayJob, site: string, day: number, partition: number, checkpoint: number, fromLog: boolean): Promise<DayResult> {
    if (!host.owns(partition)) throw new NotOwned();
    let at = now();
    let result: DayResult;
    if (fromLog) {
      // The records below the checkpoint are exactly what the live path has counted (the
      // partition is held, so the checkpoint cannot move): every one of them counts.
      const source = logSource({
        eventLog: deps.eventLog, partition, endOffset: checkpoint,
        maxEventAgeMs: config.maxEventAgeHours * HOUR_MS, clockSkewMs: config.clockSkewMs, marginMs: config.logMarginMs,
      });
      result = await recomputeDay({
        trackingId: site, day, options: config.options, archive: source, rollups: deps.rollups, now: at,
        counted: async (events) => events,
      });
    } else {
      await waitForArchiver(partition, async () => checkpoint, config.lockedArchiverWaitMs);
      at = now();
      result = await recomputeDay({
        trackingId: site, day, options: config.options, archive: deps.archive, rollups: deps.rollups, now: at,
        counted: countedBy(deps.rollups, site, at, config.dedupWindowHours * HOUR_MS),
      });
    }
    if (job.dryRun) return result;
    const sessions = await sessionsToReplace(result.sessions, day, at);
    // Ownership can move while the chunk ran (cluster rebalance): never commit for a partition
    // another aggregator may now be writing.
    if (!host.owns(partition)) throw new NotOwned();
    // One atomic commit: the day's buckets switch to the new version together, the checkpoint stays.
    await deps.rollups.commit({ partition, nextOffset: checkpoint, buckets: result.buckets, sessions, seen: [] });
    return result;
  }

  /**
   * The archive holds everything the aggregator counted only once the archiver has passed the
   * aggregator's checkpoint. In the chunk the partition is held, so the checkpoint does not move.
   */
  async function waitForArchiver(partition: number, target: () => Promise<number>, waitMs: number): Promise<void> {
    const until = now() + waitMs;
    for (;;) {
      const [archived, checkpoint] = await Promise.all([
        deps.eventLog.committedOffsets(ARCHIVER_GROUP).then((o) => o[partition] ?? 0),
        target(),
      ]);
      if (archived >= checkpoint) return;
      if (now() > until || stopping) {
        throw new Error(`the archiver has archived partition ${partition} up to offset ${archived}, the aggregator has counted up to ${checkpoint}; waiting for the archiver`);
      }
      await sleep(100);
    }
  }

  /**
   * Recomputed visits replace the live state of their visitors when late events may still join
   * them. A visitor keeps every visit a late event can join, and a commit writes a
   * visitor's whole set: so its live visits the day's recompute stands for (those that overlap
   * the day, or come within the timeout of a recomputed one) give way, the others stay.
   */
  async function sessionsToReplace(sessions: SessionState[], day: number, at: number): Promise<SessionState[]> {
    const horizon = at - config.maxEventAgeHours * HOUR_MS - T;
    const recomputed = new Map<string, SessionState[]>();
    for (const s of sessions) {
      if (s.end < horizon) continue;
      const list = recomputed.get(s.visitorId);
      if (list) list.push(s);
      else recomputed.set(s.visitorId, [s]);
    }
    if (recomputed.size === 0) return [];
    const live = new Map<string, SessionState[]>();
    const keys = [...recomputed.values()].map((list) => ({ trackingId: list[0].trackingId, visitorId: list[0].visitorId }));
    for (const s of await deps.rollups.getSessions(keys)) {
      const list = live.get(s.visitorId);
      if (list) list.push(s);
      else live.set(s.visitorId, [s]);
    }
    const end = day + DAY_MS;
    const out: SessionState[] = [];
    for (const [visitorId, fresh] of recomputed) {
      const kept = (live.get(visitorId) ?? []).filter((l) =>
        !(l.start < end && l.end >= day) && !fresh.some((r) => l.start <= r.end + T && l.end >= r.start - T));
      out.push(...[...kept, ...fresh].sort((a, b) => a.start - b.start));
    }
    return out;
  }

  async function finish(job: ReplayJob, status: 'done' | 'failed' | 'cancelled', error?: string): Promise<void> {
    await registry.updateReplayJob(job.id, { status, finishedAt: now(), ...(error !== undefined ? { error } : {}) });
    log(`replay ${job.id}: ${status}${error ? `: ${error}` : ''}`);
  }

  return {
    chunks: () => chunksDone,
    async stop() {
      stopping = true;
      wake();
      await loop;
    },
  };
}

export function dayCount(job: Pick<ReplayJob, 'from' | 'to'>): number {
  return Math.round((job.to - job.from) / DAY_MS);
}

function nextProgress(p: ReplayProgress, r: DayResult, chunkMs: number): ReplayProgress {
  const daysDone = p.daysDone + 1;
  const eventsDone = p.eventsDone + r.eventsInDay;
  const bucketsDone = p.bucketsDone + r.buckets.length;
  const elapsedMs = p.elapsedMs + chunkMs;
  const eventsPerSec = elapsedMs > 0 ? Math.round((eventsDone / elapsedMs) * 1000) : 0;
  const daysLeft = p.daysTotal - daysDone;
  const eventsLeft = Math.max(0, p.eventsTotal - eventsDone);
  const etaMs = daysLeft <= 0 ? 0 : Math.round(eventsLeft > 0 && eventsPerSec > 0 ? (eventsLeft / eventsPerSec) * 1000 : (elapsedMs / daysDone) * daysLeft);
  return {
    eventsDone,
    eventsTotal: Math.max(p.eventsTotal, eventsDone),
    bucketsDone,
    bucketsTotal: daysLeft <= 0 ? bucketsDone : Math.round((bucketsDone / daysDone) * p.daysTotal),
    daysDone,
    daysTotal: p.daysTotal,
    elapsedMs,
    eventsPerSec,
    etaMs,
  };
}
