/**
 * A supervised cluster node as a real process: `almanac start` in the cluster profile without
 * ALMANAC_ROLES, so it supervises its worker processes (appliance/scaling). Waits until the node's
 * HTTP port answers /healthz (served by its collector/query workers).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Credentials } from '../../appliance/main/first-start.ts';

const bin = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../appliance/bin/almanac.mjs');

export interface SupervisorProcess {
  url: string;
  port: number;
  dataDir: string;
  child: ChildProcess;
  output(): string;
  credentials(): Credentials;
  /** Sends `signal`, waits for the exit (SIGKILL after 60 s) and removes the data folder. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: string | null }>;
}

export async function startSupervisor(env: Record<string, string>, timeoutMs = 90_000): Promise<SupervisorProcess> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'almanac-node-'));
  const port = 21000 + Math.floor(Math.random() * 20000);
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, ALMANAC_PORT: String(port), ALMANAC_DATA_DIR: dataDir, ALMANAC_TRUST_PROXY: 'true' };
  delete childEnv.ALMANAC_ROLES;
  const child = spawn(process.execPath, [bin, 'start'], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`supervisor exited with ${child.exitCode ?? child.signalCode}:\n${out}`);
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`supervised node not healthy after ${timeoutMs} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    port,
    dataDir,
    child,
    output: () => out,
    credentials: () => JSON.parse(readFileSync(path.join(dataDir, 'credentials.json'), 'utf8')) as Credentials,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const result = await exited;
      clearTimeout(timer);
      rmSync(dataDir, { recursive: true, force: true });
      return result;
    },
  };
}

/** Whether a process with this pid is alive (signal 0). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
