/**
 * Desired scale and node reports on SQLite (tables `desired_scale`, `nodes`): the
 * ScalingRegistry methods, spread into the embedded Registry.
 */
import type { NodeStatus, ScalingRegistry, WorkerCounts } from '../../../core/ports/index.ts';
import { assertDesiredScale } from '../../../control/desired-scale.ts';
import type { SqliteDatabase } from './database.ts';

export function createEmbeddedScaling(db: SqliteDatabase, now: () => number): ScalingRegistry {
  const selectDesired = db.prepare<[string], { counts: string }>('SELECT counts FROM desired_scale WHERE node_id = ?');
  const upsertDesired = db.prepare(
    `INSERT INTO desired_scale (node_id, counts, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (node_id) DO UPDATE SET counts = excluded.counts, updated_at = excluded.updated_at`,
  );
  const upsertNode = db.prepare(
    `INSERT INTO nodes (node_id, last_seen_at, doc) VALUES (?, ?, ?)
     ON CONFLICT (node_id) DO UPDATE SET last_seen_at = excluded.last_seen_at, doc = excluded.doc`,
  );
  const selectNodes = db.prepare<[number], { doc: string }>('SELECT doc FROM nodes WHERE last_seen_at >= ? ORDER BY node_id');

  return {
    async getDesiredScale(nodeId) {
      const row = selectDesired.get(nodeId);
      return row && (JSON.parse(row.counts) as WorkerCounts);
    },
    async setDesiredScale(nodeId, counts) {
      // One SQLite file: its event log has one consumer per group, so only 1 of each role.
      assertDesiredScale(counts, 'embedded');
      const { collector, archiver, aggregator, query } = counts;
      upsertDesired.run(nodeId, JSON.stringify({ collector, archiver, aggregator, query }), now());
    },
    async reportNode(status: NodeStatus) {
      upsertNode.run(status.nodeId, status.lastSeenAt, JSON.stringify(status));
    },
    async listNodes(maxAgeMs = 15_000) {
      return selectNodes.all(now() - maxAgeMs).map((r) => JSON.parse(r.doc) as NodeStatus);
    },
  };
}
