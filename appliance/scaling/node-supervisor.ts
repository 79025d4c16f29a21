/**
 * The supervisor of one appliance node in the cluster profile: it keeps the node's worker
 * processes at the desired counts stored in the registry.
 *
 * Every `reconcileIntervalMs` it reads the desired scale of its node (ALMANAC_NODE_ID; one of each
 * role when never set), compares it with the slots it has (planReconcile), starts and stops
 * workers, and reports the node's status (NodeStatus) to the registry for the console. A worker
 * that exits without being asked is restarted after a backoff (initial, doubled per crash in a
 * row, at most max); its exit is kept in the slot's lastExit and counted in restarts.
 *
 * The supervisor itself opens the storage once before any worker starts: the Kafka topic, the
 * Cassandra schema and the first tenant are created here, not raced by several workers.
 */
import os from 'node:os';
import type { AlmanacConfig } from '../main/config.ts';
import type { NodeStatus, WorkerCounts, WorkerRole, WorkerStatus } from '../../core/ports/index.ts';
import { openStorage, type Storage } from '../main/profiles.ts';
import { ensureFirstTenant, recoveryHint, type FirstStartResult } from '../main/first-start.ts';
import { snippetFor } from '../../collectors/index.ts';
import { DEFAULT_SCALE, WORKER_ROLES } from '../../core/desired-scale.ts';
import { backoffDelay, planReconcile, stableAfterMs, type ReconcileAction } from './reconcile.ts';
import { launchWorker, type WorkerProcess } from './worker-process.ts';
import { saveSettings } from '../main/saved-settings.ts';

export interface RunningNodeSupervisor {
  nodeId: string;
  storage: Storage;
  firstStart: FirstStartResult;
  /** The slots as last reported (for tests and the banner). */
  status(): NodeStatus;
  /** One reconcile pass now (the loop also runs on its own). */
  reconcile(): Promise<void>;
  stop(): Promise<void>;
}

interface Slot {
  role: WorkerRole;
  slot: number;
  state: WorkerStatus['state'];
  proc: WorkerProcess | null;
  restarts: number;
  startedAt: number | null;
  lastExit: WorkerStatus['lastExit'];
  crashesInARow: number;
  retryAt?: number;
}

export async function startNodeSupervisor(
  config: Readonly<AlmanacConfig>,
  deps: { env: NodeJS.ProcessEnv; log?: (message: string) => void; now?: () => number },
): Promise<RunningNodeSupervisor> {
  const log = deps.log ?? (() => {});
  const now = deps.now ?? Date.now;
  const nodeId = config.node.id;
  const storage = await openStorage(config);
  const registry = storage.registry;
  let firstStart: FirstStartResult;
  try {
    firstStart = await ensureFirstTenant(registry, { dataDir: config.dataDir, publicUrl: config.publicUrl, snippetFor });
    saveSettings(config, config.publicUrl); // for the CLI run beside this node (appliance/main/saved-settings.ts)
  } catch (error) {
    await storage.close();
    throw error;
  }

  const startedAt = now();
  const slots = new Map<string, Slot>();
  const key = (role: WorkerRole, slot: number) => `${role}#${slot}`;
  let desired: WorkerCounts = { ...DEFAULT_SCALE };
  let stopping = false;
  let registryFailing = false;

  function start(role: WorkerRole, n: number): void {
    const previous = slots.get(key(role, n));
    const proc = launchWorker(role, n, {
      env: deps.env,
      nodeId,
      onOutput: (line) => log(`[${role}#${n}] ${line}`),
    });
    const slot: Slot = {
      role, slot: n, state: 'starting', proc,
      restarts: previous ? previous.restarts + 1 : 0,
      startedAt: now(),
      lastExit: previous?.lastExit ?? null,
      crashesInARow: previous?.crashesInARow ?? 0,
    };
    slots.set(key(role, n), slot);
    log(`supervisor: started ${role}#${n} (pid ${proc.pid})${previous ? `, restart ${slot.restarts}` : ''}`);
    proc.ready.then(() => { if (slot.state === 'starting') slot.state = 'running'; }, () => {});
    void proc.exited.then(({ code, signal }) => {
      if (slots.get(key(role, n)) !== slot) return;
      const at = now();
      if (slot.state === 'stopping') {
        slots.delete(key(role, n));
        log(`supervisor: ${role}#${n} stopped (${signal ?? `exit ${code}`})`);
        return;
      }
      // Not asked to stop: a crash. A worker that ran long enough starts the backoff over.
      const ranFor = at - (slot.startedAt ?? at);
      slot.crashesInARow = ranFor >= stableAfterMs(config.node.backoffMaxMs) ? 1 : slot.crashesInARow + 1;
      const delay = backoffDelay(slot.crashesInARow, config.node.backoffInitialMs, config.node.backoffMaxMs);
      Object.assign(slot, { state: 'backoff', proc: null, startedAt: null, lastExit: { code, signal, at }, retryAt: at + delay });
      log(`supervisor: ${role}#${n} exited unexpectedly (${signal ?? `exit ${code}`}); restarting in ${delay} ms`);
    });
  }

  function stopSlot(slot: Slot): void {
    slot.state = 'stopping';
    const proc = slot.proc!;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => {
      log(`supervisor: ${slot.role}#${slot.slot} did not stop within ${config.node.stopTimeoutMs} ms; killing it`);
      proc.kill('SIGKILL');
    }, config.node.stopTimeoutMs);
    timer.unref();
    void proc.exited.then(() => clearTimeout(timer));
  }

  function apply(action: ReconcileAction): void {
    const slot = slots.get(key(action.role, action.slot));
    if (action.type === 'start') start(action.role, action.slot);
    else if (action.type === 'forget') slots.delete(key(action.role, action.slot));
    else if (slot?.proc) {
      log(`supervisor: stopping ${action.role}#${action.slot} (desired ${action.role}: ${desired[action.role]})`);
      stopSlot(slot);
    }
  }

  function status(): NodeStatus {
    const workers: WorkerStatus[] = [...slots.values()]
      .sort((a, b) => WORKER_ROLES.indexOf(a.role) - WORKER_ROLES.indexOf(b.role) || a.slot - b.slot)
      .map((s) => ({ role: s.role, slot: s.slot, pid: s.proc?.pid ?? null, state: s.state, restarts: s.restarts, startedAt: s.startedAt, lastExit: s.lastExit }));
    return {
      nodeId, host: os.hostname(), pid: process.pid, url: `http://${config.host}:${config.port}`,
      startedAt, lastSeenAt: now(), desired: { ...desired }, workers,
    };
  }

  async function report(): Promise<void> {
    await registry.reportNode(status());
  }

  let running: Promise<void> | undefined;
  async function reconcileOnce(): Promise<void> {
    if (stopping) return;
    try {
      desired = (await registry.getDesiredScale(nodeId)) ?? { ...DEFAULT_SCALE };
      if (registryFailing) log('supervisor: registry reachable again');
      registryFailing = false;
    } catch (error) {
      // Keep the workers as they are (the last desired scale) until the registry answers.
      if (!registryFailing) log(`supervisor: cannot read the desired scale (${(error as Error).message}); keeping ${JSON.stringify(desired)}`);
      registryFailing = true;
    }
    if (stopping) return;
    for (const action of planReconcile(desired, [...slots.values()], now())) apply(action);
    await report().catch(() => {});
  }
  const reconcile = () => (running ??= reconcileOnce().finally(() => { running = undefined; }));

  await reconcile();
  const timer = setInterval(() => void reconcile(), config.node.reconcileIntervalMs);

  let stopped: Promise<void> | undefined;
  async function shutdown(): Promise<void> {
    stopping = true;
    clearInterval(timer);
    await running;
    const live = [...slots.values()].filter((s) => s.proc);
    for (const s of live) if (s.state !== 'stopping') stopSlot(s);
    await Promise.all(live.map((s) => s.proc!.exited));
    slots.clear();
    // The last report says the node has no workers; it drops out of listNodes once it ages.
    await report().catch(() => {});
    await storage.close();
  }

  log(banner(config, firstStart, desired));
  return {
    nodeId,
    storage,
    firstStart,
    status,
    reconcile,
    stop: () => (stopped ??= shutdown()),
  };
}

function banner(config: Readonly<AlmanacConfig>, first: FirstStartResult, desired: WorkerCounts): string {
  return [
    '',
    `Almanac node ${config.node.id} is supervising its workers (cluster profile, namespace ${config.cluster.namespace})`,
    `  workers:    ${WORKER_ROLES.map((r) => `${r} ${desired[r]}`).join(', ')} (desired scale in the registry; reconciled every ${config.node.reconcileIntervalMs} ms)`,
    `  HTTP:       http://${config.host}:${config.port} (shared by the collector and query workers)`,
    `  data:       ${config.dataDir}`,
    first.missing ? `\n${recoveryHint(first, config)}` : `  credentials of the first tenant: ${first.credentialsPath}${first.created ? ' (created now)' : ''}`,
  ].join('\n') + '\n';
}
