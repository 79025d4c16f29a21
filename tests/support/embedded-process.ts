/**
 * The embedded appliance as a real child process (`almanac start`) on ONE data folder that
 * outlives the process: it can be SIGKILLed and started again on the same folder and port, as a
 * crashed appliance restarted by its supervisor would be. Output of every run is kept in order.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import type { Credentials } from '../../appliance/main/first-start.ts';
import { hookedAlmanac, type HookSettings } from './aggregator-hooks.ts';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const bin = path.join(root, 'appliance/bin/almanac.mjs');

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface EmbeddedProcess {
  readonly url: string;
  readonly dataDir: string;
  readonly env: Record<string, string>;
  /** How many times the process was started. */
  readonly starts: number;
  /** The current child (undefined before the first start). */
  readonly child: ChildProcess | undefined;
  /** Output of every run so far, each run headed by a marker line. */
  output(): string;
  /** The last `lines` lines of output(). */
  tail(lines?: number): string;
  credentials(): Credentials;
  /** Starts the process (it must not be running) and waits until /healthz answers 200. */
  start(timeoutMs?: number): Promise<void>;
  /** Sends the signal and waits for the exit (SIGKILL after timeoutMs for any other signal). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  running(): boolean;
  /** Runs a CLI command (`almanac <args>`) with the same environment; returns its stdout; throws on a non-zero exit. */
  cli(args: string[]): string;
}

/** `hooks`: the aggregator's test hooks, wired in through tests/support/hooked-almanac.mjs. */
export function embeddedProcess(dataDir: string, port: number, extraEnv: Record<string, string> = {}, opts: { hooks?: HookSettings } = {}): EmbeddedProcess {
  const env: Record<string, string> = {
    ALMANAC_PROFILE: 'embedded',
    ALMANAC_DATA_DIR: dataDir,
    ALMANAC_PORT: String(port),
    ALMANAC_TRUST_PROXY: 'true',
    ...extraEnv,
  };
  const url = `http://127.0.0.1:${port}`;
  let out = '';
  let child: ChildProcess | undefined;
  let starts = 0;
  const isRunning = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  const handle: EmbeddedProcess = {
    url,
    dataDir,
    env,
    get starts() { return starts; },
    get child() { return child; },
    output: () => out,
    tail(lines = 60) {
      return out.split('\n').slice(-lines).join('\n');
    },
    credentials: () => JSON.parse(readFileSync(path.join(dataDir, 'credentials.json'), 'utf8')) as Credentials,
    running: isRunning,
    async start(timeoutMs = 60_000) {
      if (isRunning()) throw new Error('embeddedProcess.start: already running');
      starts++;
      out += `\n===== start #${starts} at ${new Date().toISOString()} =====\n`;
      const command = opts.hooks ? hookedAlmanac(opts.hooks) : [bin];
      const c = spawn(process.execPath, [...command, 'start'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      child = c;
      c.stdout!.on('data', (d) => (out += d));
      c.stderr!.on('data', (d) => (out += d));
      c.once('exit', (code, signal) => (out += `\n===== run #${starts} exited: code ${code}, signal ${signal} =====\n`));
      const until = Date.now() + timeoutMs;
      for (;;) {
        if (c.exitCode !== null || c.signalCode !== null) throw new Error(`almanac start (run #${starts}) exited with ${c.exitCode ?? c.signalCode} before it was healthy:\n${handle.tail()}`);
        if (await fetch(`${url}/healthz`).then((r) => { void r.arrayBuffer(); return r.ok; }, () => false)) return;
        if (Date.now() > until) {
          c.kill('SIGKILL');
          throw new Error(`almanac start (run #${starts}) not healthy after ${timeoutMs} ms:\n${handle.tail()}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000) {
      const c = child;
      if (!c) return { code: null, signal: null };
      if (c.exitCode !== null || c.signalCode !== null) return { code: c.exitCode, signal: c.signalCode };
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => c.once('exit', (code, sig) => r({ code, signal: sig })));
      c.kill(signal);
      const timer = signal === 'SIGKILL' ? undefined : setTimeout(() => c.kill('SIGKILL'), timeoutMs);
      const result = await exited;
      if (timer) clearTimeout(timer);
      return result;
    },
    cli(args) {
      const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });
      if (r.status !== 0) throw new Error(`almanac ${args.join(' ')} exited with ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
      return r.stdout;
    },
  };
  return handle;
}
