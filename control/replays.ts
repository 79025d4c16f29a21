/**
 * Replays, the control side: reprocess the history of a tenant or of tracking IDs over a range of
 * UTC days with the current processing logic (design: pipeline/replay/README.md). These
 * functions create, inspect and cancel jobs in the registry; the aggregators execute them
 * (pipeline/replay/runner.ts). The CLI, the REST admin routes and the tRPC admin API all parse
 * their input with `startReplayInput` and call these.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { partitionFor, type EventLog, type Registry, type ReplayJob, type ReplayStatus } from '../core/ports/index.ts';
import { DAY_MS } from '../core/time.ts';
import { LOGIC_VERSION } from '../pipeline/logic-version.ts';
import { dayCount, dayKey, logHoldsSince, logNeededSince, parseDay } from '../pipeline/replay/index.ts';
import { ControlError } from './errors.ts';

/** Longest range one job may cover. */
export const MAX_REPLAY_DAYS = 400;

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a UTC day as YYYY-MM-DD');
const trackingId = z.string().min(1).max(200);

/** The shape of a replay request; the range, the sites and the source are checked in startReplay. */
export const startReplayInput = z.object({
  /** Either tracking IDs or a tenant (all its tracking IDs). */
  trackingIds: z.array(trackingId).min(1, 'trackingIds must be a non-empty list of tracking IDs.').max(1000).optional(),
  tenantId: z.string().min(1).max(200).optional(),
  /** First and last UTC day, YYYY-MM-DD, both included. */
  from: day,
  to: day,
  /** Compute and report the per-day differences; write nothing. */
  dryRun: z.boolean().default(false),
  /**
   * Where the raw events are read from. 'auto' (default): the event log when it still holds
   * every site's records the range needs, else the archive. 'log' is refused (409) when it does not.
   */
  source: z.enum(['auto', 'log', 'archive']).default('auto'),
});
export type StartReplayInput = z.input<typeof startReplayInput>;

export const listReplaysInput = z.object({
  limit: z.number().int().min(1).max(1000).default(100),
  status: z.array(z.enum(['queued', 'running', 'done', 'failed', 'cancelled'])).optional(),
}).default({});

export interface ReplayOptions {
  now?: () => number;
  /** The logic version the job asks for. Default: this build's LOGIC_VERSION. */
  logicVersion?: number;
  /** The event log, to choose the source. Without it, 'auto' means the archive and 'log' is refused. */
  eventLog?: Pick<EventLog, 'partitions' | 'earliest'>;
}

const ACTIVE: ReplayStatus[] = ['queued', 'running'];


/** Validates the request and queues the job; the aggregator owning each site's partition runs it. */
export async function startReplay(registry: Registry, input: StartReplayInput, options: ReplayOptions = {}): Promise<ReplayJob> {
  const reg = registry;
  const now = (options.now ?? Date.now)();
  const requested = input.source ?? 'auto';

  // ---- the range: whole UTC days, both ends included.
  const from = parseDay(input.from);
  const last = parseDay(input.to);
  if (from === undefined) throw new ControlError('invalid_range', `from must be a UTC day like 2026-11-01, got ${JSON.stringify(input.from)}.`);
  if (last === undefined) throw new ControlError('invalid_range', `to must be a UTC day like 2026-11-27, got ${JSON.stringify(input.to)}.`);
  if (last < from) throw new ControlError('invalid_range', `from (${input.from}) must not be after to (${input.to}).`);
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  if (last > today) throw new ControlError('invalid_range', `to (${input.to}) is in the future; the last day that can be replayed is today, ${dayKey(today)}.`);
  const to = last + DAY_MS;
  const days = Math.round((to - from) / DAY_MS);
  if (days > MAX_REPLAY_DAYS) throw new ControlError('range_too_long', `The range has ${days} days; a replay covers at most ${MAX_REPLAY_DAYS}. Split it into several jobs.`);

  // ---- the sites: given, or the tenant's.
  const hasIds = input.trackingIds !== undefined;
  const hasTenant = input.tenantId !== undefined;
  if (hasIds === hasTenant) throw new ControlError('invalid_request', 'Give either trackingIds (CLI: --tracking-id) or tenantId (CLI: --tenant), exactly one of them.');
  let trackingIds: string[];
  let tenantId: string | null = null;
  if (hasTenant) {
    tenantId = input.tenantId!;
    if (!(await registry.getTenant(tenantId))) throw new ControlError('unknown_tenant', `No tenant '${tenantId}'. List tenants with: almanac tenants list`);
    trackingIds = (await registry.listTrackingIds(tenantId)).map((t) => t.id);
    if (trackingIds.length === 0) throw new ControlError('invalid_request', `Tenant '${tenantId}' has no tracking IDs: nothing to replay.`);
  } else {
    trackingIds = [...new Set(input.trackingIds!)];
  }
  trackingIds.sort();
  for (const id of trackingIds) {
    const site = await registry.getTrackingId(id);
    if (!site) throw new ControlError('unknown_tracking_id', `No tracking ID '${id}'. List them with: almanac tracking-ids list`);
    // Raw events past the tenant's retention are deleted: replaying those days would empty them.
    const tenant = await registry.getTenant(site.tenantId);
    if (tenant && from < today - (tenant.retentionDays - 1) * DAY_MS) {
      throw new ControlError('beyond_retention', `The raw events of ${id} are kept ${tenant.retentionDays} days (tenant ${tenant.id}); the earliest day that can be replayed is ${dayKey(today - (tenant.retentionDays - 1) * DAY_MS)}.`);
    }
  }

  // ---- the source: the event log while it still holds what the first day needs, else the archive.
  let source: 'log' | 'archive' = 'archive';
  if (requested !== 'archive') {
    const eventLog = options.eventLog;
    if (!eventLog) {
      if (requested === 'log') throw new ControlError('unsupported', 'This process cannot see the event log; omit source or use source archive.');
    } else {
      const since = logNeededSince(from);
      const outside: string[] = [];
      for (const id of trackingIds) {
        const partition = partitionFor(id, eventLog.partitions);
        const held = await logHoldsSince(eventLog, partition, since);
        if (!held.ok) outside.push(`${id} (partition ${partition}: oldest retained record ${held.oldest === undefined ? 'none' : new Date(held.oldest).toISOString()})`);
      }
      if (outside.length === 0) source = 'log';
      else if (requested === 'log') {
        throw new ControlError('outside_log_retention', `The event log no longer holds what a replay from ${dayKey(from)} needs (records from ${new Date(since).toISOString()}, two days of warm-up before the first day) for ${outside.join(', ')}. Replay from the archive: source archive (CLI: --source archive), or omit source.`);
      }
    }
  }

  // ---- one active job per site: two would redo each other's days.
  const busy = (await reg.listReplayJobs({ status: ACTIVE })).find((j) => j.trackingIds.some((id) => trackingIds.includes(id)));
  if (busy) {
    const shared = busy.trackingIds.filter((id) => trackingIds.includes(id));
    throw new ControlError('conflict', `Replay ${busy.id} (${busy.status}) already covers ${shared.join(', ')}. Wait for it or cancel it: almanac replays cancel ${busy.id}`);
  }

  const job: ReplayJob = {
    id: `rp_${randomBytes(6).toString('hex')}`,
    trackingIds, tenantId, from, to,
    dryRun: input.dryRun ?? false,
    status: 'queued',
    progress: { eventsDone: 0, eventsTotal: 0, bucketsDone: 0, bucketsTotal: 0, daysDone: 0, daysTotal: days * trackingIds.length, elapsedMs: 0, eventsPerSec: 0, etaMs: 0 },
    source,
    logicVersion: options.logicVersion ?? LOGIC_VERSION,
    createdAt: now,
    startedAt: null,
    finishedAt: null,
    error: null,
    cancelRequested: false,
    dryRunReport: null,
  };
  return reg.createReplayJob(job);
}

/**
 * Asks the runner to stop the job after its current chunk (status 'cancelled'); a queued job is
 * cancelled at once. Days already replaced stay replaced (each day is consistent on its own).
 */
export async function cancelReplay(registry: Registry, id: string, options: ReplayOptions = {}): Promise<ReplayJob> {
  const reg = registry;
  const job = await getReplay(registry, id);
  if (!ACTIVE.includes(job.status)) throw new ControlError('not_cancellable', `Replay ${id} is already ${job.status}.`);
  return reg.updateReplayJob(id, job.status === 'queued'
    ? { cancelRequested: true, status: 'cancelled', finishedAt: (options.now ?? Date.now)() }
    : { cancelRequested: true });
}

export async function getReplay(registry: Registry, id: string): Promise<ReplayJob> {
  const job = typeof id === 'string' && id !== '' ? await registry.getReplayJob(id) : undefined;
  if (!job) throw new ControlError('not_found', `No replay job '${id}'. List them with: almanac replays list`);
  return job;
}

/** Newest first. */
export async function listReplays(registry: Registry, filter: { status?: ReplayStatus[]; limit?: number } = {}): Promise<ReplayJob[]> {
  return (await registry.listReplayJobs(filter)).reverse();
}

/** A job as people read it (CLI, admin API): days as YYYY-MM-DD (`to` included), times as ISO, percent done. */
export interface ReplayView {
  id: string;
  status: ReplayStatus;
  trackingIds: string[];
  tenantId: string | null;
  from: string;
  to: string;
  days: number;
  dryRun: boolean;
  source: 'log' | 'archive';
  logicVersion: number;
  percent: number;
  progress: ReplayJob['progress'];
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  cancelRequested: boolean;
  error: string | null;
  dryRunReport: ReplayJob['dryRunReport'];
}

export function describeReplay(job: ReplayJob): ReplayView {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  const { progress } = job;
  return {
    id: job.id,
    status: job.status,
    trackingIds: job.trackingIds,
    tenantId: job.tenantId,
    from: dayKey(job.from),
    to: dayKey(job.to - DAY_MS),
    days: dayCount(job),
    dryRun: job.dryRun,
    source: job.source,
    logicVersion: job.logicVersion,
    percent: progress.daysTotal === 0 ? 100 : Math.floor((100 * progress.daysDone) / progress.daysTotal),
    progress,
    createdAt: iso(job.createdAt)!,
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
    cancelRequested: job.cancelRequested,
    error: job.error,
    dryRunReport: job.dryRunReport,
  };
}
