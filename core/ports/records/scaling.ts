/** The scaling records of the registry (control plane): worker roles and counts, node reports. */

/** The roles a node runs as worker processes, each with a desired count. */
export type WorkerRole = 'collector' | 'archiver' | 'aggregator' | 'query';
export type WorkerCounts = Record<WorkerRole, number>;

export interface WorkerStatus {
  role: WorkerRole;
  /** 0-based slot of this worker among its role's workers on the node. */
  slot: number;
  pid: number | null;
  state: 'starting' | 'running' | 'backoff' | 'stopping';
  restarts: number;
  startedAt: number | null;
  /** The last exit of this slot's process, if it ever exited (a crash shows here). */
  lastExit: { code: number | null; signal: string | null; at: number } | null;
}

/** What a node's supervisor reports about itself every few seconds. */
export interface NodeStatus {
  nodeId: string;
  host: string;
  pid: number;
  url: string;
  startedAt: number;
  lastSeenAt: number;
  desired: WorkerCounts;
  workers: WorkerStatus[];
}
