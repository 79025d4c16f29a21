/** The replay job records of the registry. */

/**
 * A replay reprocesses the history of some tracking IDs over a range of UTC days with the
 * current processing logic (see pipeline/replay/README.md). The job lives in the registry; the
 * aggregator that owns a site's log partition executes it, one UTC day at a time.
 */
export type ReplayStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface ReplayProgress {
  /** Raw events of the days done (archive counts), and of the whole range when the job started. */
  eventsDone: number;
  eventsTotal: number;
  /** Buckets written (or, for a dry run, compared); the total is projected from the days done. */
  bucketsDone: number;
  bucketsTotal: number;
  /** Site-days: a job of 2 tracking IDs over 10 days has 20. Days are done in order, site by site. */
  daysDone: number;
  daysTotal: number;
  /** Time spent on chunks (ms), across restarts. */
  elapsedMs: number;
  eventsPerSec: number;
  /** Estimated time left (ms), from eventsPerSec. */
  etaMs: number;
}

/** What a day's day bucket says: the figures a dry run compares. Revenue in major units per currency. */
export interface ReplayDayFigures {
  pageviews: number;
  events: number;
  visits: number;
  visitors: number;
  revenue: Record<string, number>;
}

export interface ReplayDayDiff {
  trackingId: string;
  /** UTC day, YYYY-MM-DD. */
  day: string;
  old: ReplayDayFigures;
  new: ReplayDayFigures;
}

export interface ReplayDryRunReport {
  /** Site-days compared so far. */
  daysCompared: number;
  /** Only the site-days whose figures differ. */
  days: ReplayDayDiff[];
}

export interface ReplayJob {
  id: string;
  trackingIds: string[];
  /** The tenant the tracking IDs were taken from, when the job was started for a tenant. */
  tenantId: string | null;
  /** UTC day start (ms) of the first day, inclusive; `to` is the start of the day after the last one. */
  from: number;
  to: number;
  dryRun: boolean;
  status: ReplayStatus;
  progress: ReplayProgress;
  source: 'log' | 'archive';
  /** The logic version the job runs with (written into every bucket it replaces). */
  logicVersion: number;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  error: string | null;
  cancelRequested: boolean;
  dryRunReport: ReplayDryRunReport | null;
}

export interface ReplayJobFilter {
  status?: ReplayStatus[];
  /** Only the newest `limit` jobs (still listed oldest first). Default: all. */
  limit?: number;
}
