/**
 * Desired scale and node reports on MongoDB / FerretDB (collections `desired_scale`, `nodes`):
 * the ScalingRegistry methods, spread into the Mongo Registry.
 *
 * One document per node in each. A node's report is written only by its own supervisor, and a
 * desired scale is replaced whole, so no two writers merge into one document.
 */
import type { Db } from 'mongodb';
import type { NodeStatus, ScalingRegistry, WorkerCounts } from '../../../core/ports/index.ts';
import { assertDesiredScale } from '../../../control/desired-scale.ts';

export async function createMongoScaling(db: Db, now: () => number, assertOpen: () => void): Promise<ScalingRegistry> {
  const desiredScale = db.collection<{ _id: string; counts: WorkerCounts; updatedAt: number }>('desired_scale');
  const nodes = db.collection<{ _id: string; lastSeenAt: number; status: NodeStatus }>('nodes');
  await nodes.createIndex({ lastSeenAt: 1 }, { name: 'lastSeenAt' });

  return {
    async getDesiredScale(nodeId) {
      assertOpen();
      const d = await desiredScale.findOne({ _id: nodeId });
      return d ? { ...d.counts } : undefined;
    },
    async setDesiredScale(nodeId, desired) {
      assertOpen();
      assertDesiredScale(desired, 'cluster');
      const { collector, archiver, aggregator, query } = desired;
      await desiredScale.replaceOne({ _id: nodeId }, { counts: { collector, archiver, aggregator, query }, updatedAt: now() }, { upsert: true });
    },
    async reportNode(status) {
      assertOpen();
      await nodes.replaceOne({ _id: status.nodeId }, { lastSeenAt: status.lastSeenAt, status: structuredClone(status) }, { upsert: true });
    },
    async listNodes(maxAgeMs = 15_000) {
      assertOpen();
      const docs = await nodes.find({ lastSeenAt: { $gte: now() - maxAgeMs } }).sort({ _id: 1 }).toArray();
      return docs.map((d) => d.status);
    },
  };
}
