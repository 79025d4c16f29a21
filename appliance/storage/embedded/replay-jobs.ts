/**
 * Replay jobs on SQLite (table `replay_jobs`, the job as a JSON document): the ReplayJobRegistry
 * methods, spread into the embedded Registry.
 */
import type { Statement } from 'better-sqlite3';
import type { ReplayJob, ReplayJobRegistry, ReplayStatus } from '../../../core/ports/index.ts';
import type { SqliteDatabase } from './database.ts';
import { definedOnly, rethrowDuplicate } from './registry-writes.ts';

export function createEmbeddedReplayJobs(db: SqliteDatabase): ReplayJobRegistry {
  const insertReplayJob = db.prepare('INSERT INTO replay_jobs (id, status, created_at, doc) VALUES (?, ?, ?, ?)');
  const selectReplayJob = db.prepare<[string], { doc: string }>('SELECT doc FROM replay_jobs WHERE id = ?');
  const selectReplayJobs = db.prepare<[], { doc: string }>('SELECT doc FROM replay_jobs ORDER BY created_at, id');
  const replaceReplayJob = db.prepare('UPDATE replay_jobs SET status = ?, doc = ? WHERE id = ?');
  const byStatus = new Map<number, Statement<ReplayStatus[], { doc: string }>>();
  function replayJobsWithStatus(n: number): Statement<ReplayStatus[], { doc: string }> {
    let s = byStatus.get(n);
    if (!s) {
      s = db.prepare<ReplayStatus[], { doc: string }>(`SELECT doc FROM replay_jobs WHERE status IN (${new Array(n).fill('?').join(',')}) ORDER BY created_at, id`);
      byStatus.set(n, s);
    }
    return s;
  }
  // Read-modify-write in one IMMEDIATE transaction: a runner's progress update and an admin's
  // cancel request (other process) do not lose each other's fields.
  const updateReplayJobTx = db.transaction((id: string, patch: Partial<Omit<ReplayJob, 'id' | 'createdAt'>>) => {
    const row = selectReplayJob.get(id);
    if (!row) throw new Error(`Unknown replay job '${id}'. List replay jobs to find its ID.`);
    const current = JSON.parse(row.doc) as ReplayJob;
    const next: ReplayJob = { ...current, ...definedOnly(patch), id: current.id, createdAt: current.createdAt };
    next.cancelRequested = current.cancelRequested || next.cancelRequested;
    replaceReplayJob.run(next.status, JSON.stringify(next), id);
    return next;
  });

  return {
    async createReplayJob(job) {
      try {
        insertReplayJob.run(job.id, job.status, job.createdAt, JSON.stringify(job));
      } catch (err) {
        rethrowDuplicate(err, `Replay job '${job.id}'`);
      }
      return structuredClone(job);
    },
    async getReplayJob(id) {
      const row = selectReplayJob.get(id);
      return row && (JSON.parse(row.doc) as ReplayJob);
    },
    async listReplayJobs(filter = {}) {
      // The runners poll for active jobs every second: filter in SQL (index on status).
      if (filter.status?.length === 0) return [];
      const rows = filter.status ? replayJobsWithStatus(filter.status.length).all(...filter.status) : selectReplayJobs.all();
      const jobs = rows.map((r) => JSON.parse(r.doc) as ReplayJob);
      return filter.limit !== undefined ? jobs.slice(Math.max(0, jobs.length - filter.limit)) : jobs;
    },
    async updateReplayJob(id, patch) {
      return updateReplayJobTx.immediate(id, patch);
    },
  };
}
