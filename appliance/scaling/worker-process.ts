/**
 * Starting one worker process of a node. Every worker is `almanac start` with ALMANAC_ROLES set
 * (so it runs its roles itself) and ALMANAC_WORKER_OF naming its supervisor.
 *
 * - collector and query workers share the node's HTTP port: they are node:cluster workers of the
 *   supervisor (the primary holds the listening socket and hands connections round-robin), and
 *   each serves the same app: collector, stats API and admin routes.
 * - archiver and aggregator workers are plain child processes; their own HTTP server (/healthz)
 *   listens on a free port of 127.0.0.1, so they never take the node's traffic.
 *
 * Both have an IPC channel: the worker says `ready` when its roles run, and stops by itself when
 * the channel closes (its supervisor is gone).
 */
import cluster from 'node:cluster';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { WorkerRole } from '../../core/ports/index.ts';

export const HTTP_WORKER_ROLES = 'collector,query,admin';
export const WORKER_READY_MESSAGE = 'almanac-worker-ready';

const bin = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../bin/almanac.mjs');

export interface WorkerProcess {
  pid: number | null;
  /** Resolves when the worker reports that its roles run. */
  ready: Promise<void>;
  exited: Promise<{ code: number | null; signal: string | null }>;
  kill(signal: NodeJS.Signals): void;
}

export interface LaunchOptions {
  /** The node's environment (its ALMANAC_* settings); the worker's role settings are added. */
  env: NodeJS.ProcessEnv;
  nodeId: string;
  /** Each line the worker prints, prefixed by the caller. */
  onOutput: (line: string) => void;
}

let primaryReady = false;

export function launchWorker(role: WorkerRole, slot: number, opts: LaunchOptions): WorkerProcess {
  const workerEnv: NodeJS.ProcessEnv = {
    ...opts.env,
    ALMANAC_SUPERVISE: 'false',
    ALMANAC_WORKER_OF: opts.nodeId,
    ALMANAC_NODE_ID: opts.nodeId,
    ALMANAC_WORKER_SLOT: `${role}#${slot}`,
  };
  let child: ChildProcess;
  if (role === 'collector' || role === 'query') {
    if (!primaryReady) {
      cluster.setupPrimary({ exec: bin, args: ['start'], silent: true });
      primaryReady = true;
    }
    child = cluster.fork({ ...workerEnv, ALMANAC_ROLES: HTTP_WORKER_ROLES }).process;
  } else {
    child = spawn(process.execPath, [bin, 'start'], {
      env: { ...workerEnv, ALMANAC_ROLES: role, ALMANAC_HOST: '127.0.0.1', ALMANAC_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
  }
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) opts.onOutput(line);
    });
  }
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const ready = new Promise<void>((resolve, reject) => {
    const onMessage = (m: unknown) => {
      if ((m as { type?: string })?.type === WORKER_READY_MESSAGE) {
        child.off('message', onMessage);
        resolve();
      }
    };
    child.on('message', onMessage);
    void exited.then(() => reject(new Error('exited before it was ready')));
  });
  ready.catch(() => {});
  return {
    pid: child.pid ?? null,
    ready,
    exited,
    kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}
