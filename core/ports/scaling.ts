import type { NodeStatus, WorkerCounts } from './records/scaling.ts';

/** Desired scale and node reports, in the registry (control plane). */
export interface ScalingRegistry {
  /** Desired worker counts of a node; undefined when never set (the node's defaults apply). */
  getDesiredScale(nodeId: string): Promise<WorkerCounts | undefined>;
  setDesiredScale(nodeId: string, counts: WorkerCounts): Promise<void>;
  reportNode(status: NodeStatus): Promise<void>;
  /** Nodes whose last report is at most `maxAgeMs` old (default 15 s), by nodeId. */
  listNodes(maxAgeMs?: number): Promise<NodeStatus[]>;
}
