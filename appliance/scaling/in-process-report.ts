/**
 * The node report of a process that runs its roles itself (the embedded profile, or a cluster
 * process started with ALMANAC_ROLES): its "workers" are those roles, in this one process, and
 * its desired scale is what it runs — nothing to reconcile, but the console shows the truth.
 */
import os from 'node:os';
import type { NodeStatus, ScalingRegistry, WorkerCounts, WorkerRole } from '../../core/ports/index.ts';
import { WORKER_ROLES } from '../../core/desired-scale.ts';

export function inProcessNodeStatus(
  node: { nodeId: string; url: string; startedAt: number; roles: readonly string[] },
  now: number,
): NodeStatus {
  const roles = WORKER_ROLES.filter((r) => node.roles.includes(r));
  const desired = Object.fromEntries(WORKER_ROLES.map((r) => [r, roles.includes(r) ? 1 : 0])) as WorkerCounts;
  return {
    nodeId: node.nodeId, host: os.hostname(), pid: process.pid, url: node.url, startedAt: node.startedAt, lastSeenAt: now,
    desired,
    workers: roles.map((role: WorkerRole) => ({ role, slot: 0, pid: process.pid, state: 'running' as const, restarts: 0, startedAt: node.startedAt, lastExit: null })),
  };
}

/** Reports every `intervalMs` until stopped; a registry that does not answer is retried quietly. */
export function startInProcessReport(
  registry: Pick<ScalingRegistry, 'reportNode'>,
  node: { nodeId: string; url: string; roles: readonly string[] },
  intervalMs: number,
  log: (m: string) => void,
): { id: string; onShutdown(): Promise<void> } {
  const startedAt = Date.now();
  let failing = false;
  const report = () => registry.reportNode(inProcessNodeStatus({ ...node, startedAt }, Date.now())).then(
    () => { failing = false; },
    (e) => { if (!failing) log(`node report: cannot write this node's status (${(e as Error).message}); retrying`); failing = true; },
  );
  void report();
  const timer = setInterval(report, intervalMs);
  timer.unref();
  return {
    id: 'node-report',
    async onShutdown() {
      clearInterval(timer);
    },
  };
}
