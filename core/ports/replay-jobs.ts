import type { ReplayJob, ReplayJobFilter } from './records/replay.ts';

/** Replay jobs in the registry (pipeline/replay queues them, the aggregator runs them). */
export interface ReplayJobRegistry {
  createReplayJob(job: ReplayJob): Promise<ReplayJob>;
  getReplayJob(id: string): Promise<ReplayJob | undefined>;
  /** Oldest first (by createdAt, then id), filtered. */
  listReplayJobs(filter?: ReplayJobFilter): Promise<ReplayJob[]>;
  /** Sets the given fields; rejects for an unknown job. `cancelRequested` is never cleared by a patch. */
  updateReplayJob(id: string, patch: Partial<Omit<ReplayJob, 'id' | 'createdAt'>>): Promise<ReplayJob>;
}
