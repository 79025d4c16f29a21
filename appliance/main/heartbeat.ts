/**
 * Marks this appliance process alive in the cluster (every 5 s, expiring after 15 s) with its
 * roles and its counters since start (ingest, aggregator), which /api/admin/status adds up over
 * the live processes (appliance/main/process-totals.ts).
 */
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { AlmanacConfig } from './config.ts';
import type { NodeLiveness } from '../storage/cluster/redis.ts';

/** The heartbeat key of this process: unique per process, so restarts and workers never share one. */
export function newInstanceId(): string {
  return `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

export function startHeartbeat(
  nodes: NodeLiveness,
  config: Readonly<AlmanacConfig>,
  log: (m: string) => void,
  opts: { instanceId?: string; counters?: () => Record<string, unknown> } = {},
): { id: string; onShutdown(): Promise<void> } {
  const nodeId = opts.instanceId ?? newInstanceId();
  const info = { host: os.hostname(), pid: process.pid, roles: config.roles, port: config.port, startedAt: Date.now() };
  let failing = false;
  const beat = () =>
    nodes.heartbeat(nodeId, { ...info, ...opts.counters?.() }).then(
      () => { if (failing) log('heartbeat: Redis reachable again'); failing = false; },
      (e) => { if (!failing) log(`heartbeat: cannot mark this node alive (${(e as Error).message}); retrying`); failing = true; },
    );
  void beat();
  const timer = setInterval(beat, 5_000);
  timer.unref();
  return {
    id: 'heartbeat',
    async onShutdown() {
      clearInterval(timer);
      await nodes.forget(nodeId).catch(() => {});
    },
  };
}
