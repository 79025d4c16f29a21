/**
 * Replays: reprocess the history of a tenant or of tracking IDs over a range of UTC days with the
 * current processing logic (design: README.md in this folder). These functions create, inspect
 * and cancel jobs in the registry; the aggregators execute them (runner.ts). The CLI
 * (`almanac replays …`) and the admin routes (`/api/admin/replays`) are thin wrappers.
 */
import { randomBytes } from 'node:crypto';
import { partitionFor, type EventLog, type Registry, type ReplayJob, type ReplayStatus } from '../../core/ports/index.ts';
import { DAY_MS } from '../../core/time.ts';
import { LOGIC_VERSION } from '../logic-version.ts';
import { dayCount, logNeededSince } from './runner.ts';
import { logHoldsSince } from './log-source.ts';
import { dayKey, parseDay } from './days.ts';

export { startReplayRunner, DEFAULT_RUNNER_CONFIG, logNeededSince } from './runner.ts';
export { logSource, logHoldsSince, type ReplaySource } from './log-source.ts';
export type { ReplayHost, ReplayRunner, ReplayRunnerConfig, ReplayRunnerDeps } from './runner.ts';
export { dayKey, parseDay } from './days.ts';

/** Longest range one job may cover. */
export const MAX_REPLAY_DAYS = 400;

export type ReplayErrorCode =
  | 'invalid_request' | 'invalid_range' | 'range_too_long' | 'beyond_retention'
  | 'unknown_tracking_id' | 'unknown_tenant' | 'conflict' | 'not_found' | 'not_cancellable' | 'unsupported'
  | 'outside_log_retention';

const STATUS: Record<ReplayErrorCode, number> = {
  invalid_request: 400, invalid_range: 400, range_too_long: 400, beyond_retention: 400,
  unknown_tracking_id: 404, unknown_tenant: 404, not_found: 404,
  conflict: 409, not_cancellable: 409, unsupported: 501, outside_log_retention: 409,
};

/** An expected failure with a stable code, an HTTP status and a message that says what to do. */
export class ReplayError extends Error {
  readonly status: number;
  constructor(readonly code: ReplayErrorCode, message: string) {
    super(message);
    this.name = 'ReplayError';
    this.status = STATUS[code];
  }
  toJSON(): { error: { code: ReplayErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

export interface StartReplayInput {
  /** Either tracking IDs or a tenant (all its tracking IDs). */
  trackingIds?: string[];
  tenantId?: string;
  /** First and last UTC day, YYYY-MM-DD, both included. */
  from: string;
  to: string;
  /** Compute and report the per-day differences; write nothing. */
  dryRun?: boolean;
  /**
   * Where the raw events are read from. 'auto' (default): the event log when it still holds
   * every site's records the range needs, else the archive. 'log' is refused (409) when it does not.
   */
  source?: 'auto' | 'log' | 'archive';
}

export type ReplaySourceChoice = NonNullable<StartReplayInput['source']>;
const SOURCES: readonly ReplaySourceChoice[] = ['auto', 'log', 'archive'];

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
  const now = (options.now ?? Date.now)();
  if (typeof input !== 'object' || input === null) throw new ReplayError('invalid_request', 'Send {"trackingIds": [...] or "tenantId", "from": "YYYY-MM-DD", "to": "YYYY-MM-DD", "dryRun": false}.');
  const requested = input.source ?? 'auto';
  if (!SOURCES.includes(requested)) throw new ReplayError('invalid_request', `Unknown source ${JSON.stringify(input.source)}; use 'auto' (default), 'log' or 'archive'.`);
  if (input.dryRun !== undefined && typeof input.dryRun !== 'boolean') throw new ReplayError('invalid_request', 'dryRun must be true or false.');

  // ---- the range: whole UTC days, both ends included.
  const from = typeof input.from === 'string' ? parseDay(input.from) : undefined;
  const last = typeof input.to === 'string' ? parseDay(input.to) : undefined;
  if (from === undefined) throw new ReplayError('invalid_range', `from must be a UTC day like 2026-11-01, got ${JSON.stringify(input.from)}.`);
  if (last === undefined) throw new ReplayError('invalid_range', `to must be a UTC day like 2026-11-27, got ${JSON.stringify(input.to)}.`);
  if (last < from) throw new ReplayError('invalid_range', `from (${input.from}) must not be after to (${input.to}).`);
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  if (last > today) throw new ReplayError('invalid_range', `to (${input.to}) is in the future; the last day that can be replayed is today, ${dayKey(today)}.`);
  const to = last + DAY_MS;
  const days = Math.round((to - from) / DAY_MS);
  if (days > MAX_REPLAY_DAYS) throw new ReplayError('range_too_long', `The range has ${days} days; a replay covers at most ${MAX_REPLAY_DAYS}. Split it into several jobs.`);

  // ---- the sites: given, or the tenant's.
  const hasIds = input.trackingIds !== undefined;
  const hasTenant = input.tenantId !== undefined;
  if (hasIds === hasTenant) throw new ReplayError('invalid_request', 'Give either trackingIds (CLI: --tracking-id) or tenantId (CLI: --tenant), exactly one of them.');
  let trackingIds: string[];
  let tenantId: string | null = null;
  if (hasTenant) {
    if (typeof input.tenantId !== 'string' || !(await registry.getTenant(input.tenantId))) {
      throw new ReplayError('unknown_tenant', `No tenant '${String(input.tenantId)}'. List tenants with: almanac tenants list`);
    }
    tenantId = input.tenantId;
    trackingIds = (await registry.listTrackingIds(tenantId)).map((t) => t.id);
    if (trackingIds.length === 0) throw new ReplayError('invalid_request', `Tenant '${tenantId}' has no tracking IDs: nothing to replay.`);
  } else {
    if (!Array.isArray(input.trackingIds) || input.trackingIds.length === 0 || input.trackingIds.some((t) => typeof t !== 'string' || t === '')) {
      throw new ReplayError('invalid_request', 'trackingIds must be a non-empty list of tracking IDs.');
    }
    trackingIds = [...new Set(input.trackingIds)];
  }
  trackingIds.sort();
  for (const id of trackingIds) {
    const site = await registry.getTrackingId(id);
    if (!site) throw new ReplayError('unknown_tracking_id', `No tracking ID '${id}'. List them with: almanac tracking-ids list`);
    // Raw events past the tenant's retention are deleted: replaying those days would empty them.
    const tenant = await registry.getTenant(site.tenantId);
    if (tenant && from < today - (tenant.retentionDays - 1) * DAY_MS) {
      throw new ReplayError('beyond_retention', `The raw events of ${id} are kept ${tenant.retentionDays} days (tenant ${tenant.id}); the earliest day that can be replayed is ${dayKey(today - (tenant.retentionDays - 1) * DAY_MS)}.`);
    }
  }

  // ---- the source: the event log while it still holds what the first day needs, else the archive.
  let source: 'log' | 'archive' = 'archive';
  if (requested !== 'archive') {
    const eventLog = options.eventLog;
    if (!eventLog) {
      if (requested === 'log') throw new ReplayError('unsupported', 'This process cannot see the event log; omit source or use source archive.');
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
        throw new ReplayError('outside_log_retention', `The event log no longer holds what a replay from ${dayKey(from)} needs (records from ${new Date(since).toISOString()}, two days of warm-up before the first day) for ${outside.join(', ')}. Replay from the archive: source archive (CLI: --source archive), or omit source.`);
      }
    }
  }

  // ---- one active job per site: two would redo each other's days.
  const busy = (await registry.listReplayJobs({ status: ACTIVE })).find((j) => j.trackingIds.some((id) => trackingIds.includes(id)));
  if (busy) {
    const shared = busy.trackingIds.filter((id) => trackingIds.includes(id));
    throw new ReplayError('conflict', `Replay ${busy.id} (${busy.status}) already covers ${shared.join(', ')}. Wait for it or cancel it: almanac replays cancel ${busy.id}`);
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
  return registry.createReplayJob(job);
}

/**
 * Asks the runner to stop the job after its current chunk (status 'cancelled'); a queued job is
 * cancelled at once. Days already replaced stay replaced (each day is consistent on its own).
 */
export async function cancelReplay(registry: Registry, id: string, options: ReplayOptions = {}): Promise<ReplayJob> {
  const job = await getReplay(registry, id);
  if (!ACTIVE.includes(job.status)) throw new ReplayError('not_cancellable', `Replay ${id} is already ${job.status}.`);
  return registry.updateReplayJob(id, job.status === 'queued'
    ? { cancelRequested: true, status: 'cancelled', finishedAt: (options.now ?? Date.now)() }
    : { cancelRequested: true });
}

export async function getReplay(registry: Registry, id: string): Promise<ReplayJob> {
  const job = typeof id === 'string' && id !== '' ? await registry.getReplayJob(id) : undefined;
  if (!job) throw new ReplayError('not_found', `No replay job '${id}'. List them with: almanac replays list`);
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
