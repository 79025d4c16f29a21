/**
 * Runs a plan, or prints it (--dry-run). The only module of the installer that touches the
 * machine: files, processes, HTTP. Every effect goes through `ExecutorDeps`, so a test can run
 * a plan against a fake `docker` as well as against the real stack.
 */
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Plan, Step } from './plan.ts';
import { compose } from './plan.ts';

export interface RunResult { code: number; stdout: string; stderr: string }

export interface ExecutorDeps {
  /** Runs argv; stdout goes to `stdoutTo` (a file, mode 600) when given, else is returned and shown. */
  run(argv: string[], opts: { env?: Record<string, string>; stdoutTo?: string; stdinFrom?: string; quiet?: boolean }): Promise<RunResult>;
  fetchOk(url: string): Promise<boolean>;
  log(line: string): void;
  sleep(ms: number): Promise<void>;
  now(): number;
}

export interface PlanOutcome {
  ok: boolean;
  /** Files written or removed, folders created, commands run. Unchanged files do not count. */
  changed: number;
  error?: string;
}

export async function runPlan(plan: Plan, deps: ExecutorDeps, opts: { dryRun: boolean }): Promise<PlanOutcome> {
  if (opts.dryRun) {
    deps.log(`Dry run: ${plan.title}. Nothing is changed; these are the steps and commands:`);
    plan.steps.forEach((s, i) => deps.log(describeStep(s, i + 1)));
    if (plan.onFailure?.length) {
      deps.log('If a step fails:');
      plan.onFailure.forEach((s, i) => deps.log(describeStep(s, i + 1)));
    }
    return { ok: true, changed: 0 };
  }
  deps.log(`${plan.title}`);
  let changed = 0;
  for (const [i, step] of plan.steps.entries()) {
    try {
      changed += await runStep(step, deps, `[${i + 1}/${plan.steps.length}]`);
    } catch (error) {
      const message = (error as Error).message;
      deps.log(`✗ ${message}`);
      if (plan.onFailure?.length) {
        for (const [j, undo] of plan.onFailure.entries()) {
          await runStep(undo, deps, `[rollback ${j + 1}/${plan.onFailure.length}]`).catch((e: Error) => deps.log(`✗ rollback step failed: ${e.message}`));
        }
      }
      return { ok: false, changed, error: message };
    }
  }
  return { ok: true, changed };
}

async function runStep(step: Step, deps: ExecutorDeps, tag: string): Promise<number> {
  switch (step.kind) {
    case 'mkdir': {
      if (existsSync(step.path) && statSync(step.path).isDirectory()) return 0;
      mkdirSync(step.path, { recursive: true, mode: step.mode });
      chmodSync(step.path, step.mode);
      deps.log(`${tag} created ${step.path}`);
      return 1;
    }
    case 'write': {
      if (existsSync(step.path) && readFileSync(step.path, 'utf8') === step.content && (statSync(step.path).mode & 0o777) === step.mode) {
        deps.log(`${tag} unchanged ${step.path}`);
        return 0;
      }
      writeAtomically(step.path, step.content, step.mode);
      deps.log(`${tag} wrote ${step.path} (mode ${step.mode.toString(8)})`);
      return 1;
    }
    case 'remove': {
      if (!existsSync(step.path)) return 0;
      rmSync(step.path, { force: true });
      deps.log(`${tag} removed ${step.path}`);
      return 1;
    }
    case 'note':
      deps.log(step.text);
      return 0;
    case 'run': {
      deps.log(`${tag} ${step.why}: ${shellLine(step.argv)}`);
      const r = await deps.run(step.argv, { env: step.env, stdoutTo: step.stdoutTo, stdinFrom: step.stdinFrom });
      if (r.code !== 0) {
        const tail = (r.stderr || r.stdout).trim().split('\n').slice(-15).join('\n');
        throw new Error(`${step.why} failed (exit ${r.code}): ${shellLine(step.argv)}${tail ? `\n${tail}` : ''}`);
      }
      return 1;
    }
    case 'wait-services':
      await waitServices(step, deps, tag);
      return 0;
    case 'wait-http':
      await waitHttp(step, deps, tag);
      return 0;
  }
}

function writeAtomically(file: string, content: string, mode: number): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  // Created with the final mode, so a secret is never readable by others, not even for a moment.
  const fd = openSync(tmp, 'w', mode);
  try {
    writeFileSync(fd, content);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}

export interface ServiceState { service: string; state: string; health: string; exitCode: number }

/** `docker compose ps --format json` prints an array (older releases) or one object per line. */
export function parseComposePs(stdout: string): ServiceState[] {
  const text = stdout.trim();
  if (!text) return [];
  const rows: Record<string, unknown>[] = text.startsWith('[') ? JSON.parse(text) : text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  return rows.map((r) => ({ service: String(r.Service), state: String(r.State ?? ''), health: String(r.Health ?? ''), exitCode: Number(r.ExitCode ?? 0) }));
}

/** Ready: every container of the service runs and is healthy (or has no health check), or is a one-shot that exited 0. */
export function serviceReadiness(rows: ServiceState[], service: string): 'ready' | 'waiting' | 'failed' {
  const mine = rows.filter((r) => r.service === service);
  if (mine.length === 0) return 'waiting';
  if (mine.some((r) => r.health === 'unhealthy' || (r.state === 'exited' && r.exitCode !== 0))) return 'failed';
  return mine.every((r) => (r.state === 'running' && (r.health === 'healthy' || r.health === '')) || (r.state === 'exited' && r.exitCode === 0)) ? 'ready' : 'waiting';
}

async function waitServices(step: Extract<Step, { kind: 'wait-services' }>, deps: ExecutorDeps, tag: string): Promise<void> {
  const start = deps.now();
  const seen = new Map<string, string>();
  deps.log(`${tag} waiting for ${step.services.join(', ')} to be healthy (up to ${Math.round(step.timeoutMs / 1000)} s)`);
  for (;;) {
    const r = await deps.run(compose(step.dir, 'ps', '--all', '--format', 'json', ...step.services), { quiet: true });
    if (r.code !== 0) throw new Error(`cannot read the containers' state: ${r.stderr.trim()}`);
    const rows = parseComposePs(r.stdout);
    const states = step.services.map((s) => [s, serviceReadiness(rows, s), rows.filter((x) => x.service === s).map((x) => x.health || x.state).join(',') || 'not created'] as const);
    for (const [service, , detail] of states) {
      if (seen.get(service) !== detail) {
        deps.log(`      ${service}: ${detail} (${Math.round((deps.now() - start) / 1000)} s)`);
        seen.set(service, detail);
      }
    }
    const failed = states.filter(([, s]) => s === 'failed').map(([s]) => s);
    if (failed.length) throw new Error(`${failed.join(', ')} failed its health check; see: ${shellLine(compose(step.dir, 'logs', '--tail', '100', ...failed))}`);
    const waiting = states.filter(([, s]) => s !== 'ready').map(([s]) => s);
    if (waiting.length === 0) return;
    if (deps.now() - start > step.timeoutMs) {
      throw new Error(`${waiting.join(', ')} not healthy after ${Math.round(step.timeoutMs / 1000)} s; see: ${shellLine(compose(step.dir, 'logs', '--tail', '100', ...waiting))}`);
    }
    await deps.sleep(2000);
  }
}

async function waitHttp(step: Extract<Step, { kind: 'wait-http' }>, deps: ExecutorDeps, tag: string): Promise<void> {
  const start = deps.now();
  deps.log(`${tag} waiting for ${step.urls.join(', ')}`);
  let pending = [...step.urls];
  for (;;) {
    const results = await Promise.all(pending.map(async (u) => [u, await deps.fetchOk(u)] as const));
    for (const [u, ok] of results) if (ok) deps.log(`      ${u}: ready (${Math.round((deps.now() - start) / 1000)} s)`);
    pending = results.filter(([, ok]) => !ok).map(([u]) => u);
    if (pending.length === 0) return;
    if (deps.now() - start >= step.timeoutMs) throw new Error(`not ready after ${Math.round(step.timeoutMs / 1000)} s: ${pending.join(', ')}`);
    await deps.sleep(500);
  }
}

export function shellLine(argv: string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export function describeStep(step: Step, n: number): string {
  const p = `${String(n).padStart(2)}.`;
  switch (step.kind) {
    case 'mkdir': return `${p} mkdir -p -m ${step.mode.toString(8)} ${shellLine([step.path])}`;
    case 'write': return `${p} write ${step.path} (mode ${step.mode.toString(8)}, ${Buffer.byteLength(step.content)} bytes${step.secret ? ', holds secrets: content not shown' : ''})`;
    case 'remove': return `${p} rm -f ${shellLine([step.path])}`;
    case 'note': return `${p} print: ${step.text.split('\n')[0]}`;
    case 'run': {
      const env = step.env ? Object.keys(step.env).filter((k) => k.startsWith('ALMANAC_')).map((k) => `${k}=…`).join(' ') : '';
      return `${p} ${env ? `${env} ` : ''}${shellLine(step.argv)}${step.stdinFrom ? ` < ${shellLine([step.stdinFrom])}` : ''}${step.stdoutTo ? ` > ${shellLine([step.stdoutTo])}` : ''}    # ${step.why}`;
    }
    case 'wait-services': return `${p} wait until healthy: ${step.services.join(', ')} (polls ${shellLine(compose(step.dir, 'ps', '--all', '--format', 'json'))}, up to ${Math.round(step.timeoutMs / 1000)} s)`;
    case 'wait-http': return `${p} wait until 2xx: ${step.urls.join(', ')}`;
  }
}

/** The real machine. */
export function systemDeps(log: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): ExecutorDeps {
  return {
    log,
    now: () => Date.now(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    fetchOk: (url) => fetch(url, { signal: AbortSignal.timeout(3000) }).then((r) => r.ok, () => false),
    run: (argv, opts) => new Promise<RunResult>((resolve) => {
      const stdoutFd = opts.stdoutTo ? openSync(opts.stdoutTo, 'w', 0o600) : undefined;
      const stdinFd = opts.stdinFrom ? openSync(opts.stdinFrom, 'r') : undefined;
      const child = spawn(argv[0], argv.slice(1), {
        env: { ...process.env, ...opts.env },
        stdio: [stdinFd ?? 'ignore', stdoutFd ?? 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (d) => {
        stdout += d;
        if (!opts.quiet) for (const line of String(d).split('\n')) if (line) log(`      │ ${line}`);
      });
      child.stderr?.on('data', (d) => {
        stderr += d;
        if (!opts.quiet) for (const line of String(d).split('\n')) if (line) log(`      │ ${line}`);
      });
      let finished = false;
      const done = (code: number) => {
        if (finished) return;
        finished = true;
        if (stdoutFd !== undefined) { closeSync(stdoutFd); chmodSync(opts.stdoutTo!, 0o600); }
        if (stdinFd !== undefined) closeSync(stdinFd);
        resolve({ code, stdout, stderr });
      };
      child.on('error', (e) => { stderr += e.message; done(127); });
      child.on('close', (code) => done(code ?? 1));
    }),
  };
}
