/** Marks this appliance node alive in the cluster (every 5 s, expiring after 15 s) with its roles. */
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { AlmanacConfig } from './config.ts';
import type { NodeLiveness } from './storage/cluster/redis.ts';

export function startHeartbeat(nodes: NodeLiveness, config: Readonly<AlmanacConfig>, log: (m: string) => void): { id: string; onShutdown(): Promise<void> } {
  const nodeId = `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const info = { host: os.hostname(), pid: process.pid, roles: config.roles, port: config.port, startedAt: Date.now() };
  let failing = false;
  const beat = () =>
    nodes.heartbeat(nodeId, info).then(
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
