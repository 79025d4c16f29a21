/**
 * Replay jobs on MongoDB / FerretDB (collections `replay_jobs`, `replay_cancels`): the
 * ReplayJobRegistry methods, spread into the Mongo Registry.
 *
 * Cancel requests live in their own documents: the runner updates a job's progress while an
 * admin asks to cancel it, and FerretDB v1 can lose one of two concurrent updates of a document.
 */
import type { Db } from 'mongodb';
import type { ReplayJob, ReplayJobRegistry } from '../../../core/ports/index.ts';
import { fromDoc, insertOrExplain, toDoc, updateOne, type Doc } from './mongo-documents.ts';

export async function createMongoReplayJobs(db: Db, now: () => number, assertOpen: () => void): Promise<ReplayJobRegistry> {
  const replayJobs = db.collection<Doc<ReplayJob>>('replay_jobs');
  const replayCancels = db.collection<{ _id: string; at: number }>('replay_cancels');
  await replayJobs.createIndex({ status: 1, createdAt: 1 }, { name: 'status_createdAt' });

  return {
    async createReplayJob(job) {
      assertOpen();
      await insertOrExplain(replayJobs, toDoc(job), `replay job ${job.id}`);
      if (job.cancelRequested) await replayCancels.updateOne({ _id: job.id }, { $setOnInsert: { at: now() } }, { upsert: true });
      return structuredClone(job);
    },
    async getReplayJob(id) {
      assertOpen();
      const [d, cancel] = await Promise.all([replayJobs.findOne({ _id: id }), replayCancels.findOne({ _id: id })]);
      return d ? { ...fromDoc<ReplayJob>(d), cancelRequested: d.cancelRequested || cancel !== null } : undefined;
    },
    async listReplayJobs(filter = {}) {
      assertOpen();
      if (filter.status?.length === 0) return [];
      const docs = await replayJobs.find(filter.status ? { status: { $in: filter.status } } : {}).sort({ createdAt: 1, _id: 1 }).toArray();
      const jobs = docs.map((d) => fromDoc<ReplayJob>(d));
      const picked = filter.limit !== undefined ? jobs.slice(Math.max(0, jobs.length - filter.limit)) : jobs;
      if (picked.length === 0) return picked;
      const cancelled = new Set((await replayCancels.find({ _id: { $in: picked.map((j) => j.id) } }).toArray()).map((c) => c._id));
      return picked.map((j) => ({ ...j, cancelRequested: j.cancelRequested || cancelled.has(j.id) }));
    },
    async updateReplayJob(id, patch) {
      assertOpen();
      const { cancelRequested, ...rest } = patch;
      // cancelRequested is kept out of the job document's updates (see replayCancels).
      const job = await updateOne<ReplayJob>(replayJobs, id, rest, 'replay job');
      if (cancelRequested) await replayCancels.updateOne({ _id: id }, { $setOnInsert: { at: now() } }, { upsert: true });
      const cancel = cancelRequested || job.cancelRequested || (await replayCancels.findOne({ _id: id })) !== null;
      return { ...job, cancelRequested: cancel };
    },
  };
}
