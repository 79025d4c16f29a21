/**
 * Preflight: can this machine run the chosen layout? Each check is a pure function of what was
 * probed, giving pass, warn or fail and, when not pass, what to do. The probes (commands, OS
 * figures, a port bind) are the only I/O and are injected, so every verdict is testable.
 */
import { availableParallelism, totalmem } from 'node:os';
import { statfs } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SIZING, memoryBudgetMiB, type ProfileName } from './sizing.ts';
import type { RunResult } from './executor.ts';

export interface Check {
  name: string;
  status: 'pass' | 'warn' | 'fail';
  detail: string;
  /** What to do about a warn or fail. */
  fix?: string;
}

/** Compose features the generated file uses: `depends_on.required` came with 2.20. */
export const MIN_COMPOSE = [2, 20, 0] as const;
const GiB = 1024 ** 3;
/** No machine running this installer can honestly be earlier than its release. */
export const CLOCK_FLOOR = Date.UTC(2026, 0, 1);

export function checkDockerEngine(r: RunResult): Check {
  const name = 'Docker engine reachable';
  const text = `${r.stderr}\n${r.stdout}`;
  if (r.code === 0 && r.stdout.trim()) return { name, status: 'pass', detail: `Docker Engine ${r.stdout.trim()}` };
  if (r.code === 127 || /ENOENT|not found/i.test(text) && !/daemon/i.test(text)) {
    return { name, status: 'fail', detail: 'the docker command is not installed', fix: 'install Docker Engine 24 or newer with the compose plugin: https://docs.docker.com/engine/install/' };
  }
  if (/permission denied/i.test(text)) {
    return { name, status: 'fail', detail: 'the Docker socket refuses this user', fix: 'run the installer with sudo, or add this user to the docker group: sudo usermod -aG docker $USER (then log in again)' };
  }
  if (/cannot connect to the docker daemon|is the docker daemon running|error during connect/i.test(text)) {
    const where = /at ([^\s.]+(?:\.[^\s.]+)*)\. ?Is/i.exec(text)?.[1];
    return {
      name, status: 'fail',
      detail: `the Docker CLI is installed but no engine answers${where ? ` at ${where}` : ''}`,
      fix: 'start the engine: sudo systemctl enable --now docker (check with: docker info); if it runs elsewhere, set DOCKER_HOST',
    };
  }
  return { name, status: 'fail', detail: `docker version failed: ${text.trim().split('\n')[0] || `exit ${r.code}`}`, fix: 'run docker info and fix what it reports' };
}

export function checkCompose(r: RunResult): Check {
  const name = `Docker Compose v2 (${MIN_COMPOSE.join('.')} or newer)`;
  const version = /(\d+)\.(\d+)\.(\d+)/.exec(r.stdout);
  if (r.code !== 0 || !version) {
    return { name, status: 'fail', detail: 'the compose plugin is missing (docker compose version failed)', fix: 'install it: sudo apt-get install docker-compose-plugin (Debian/Ubuntu, Docker\'s apt repository) or see https://docs.docker.com/compose/install/linux/' };
  }
  const v = version.slice(1, 4).map(Number);
  const newer = v[0] !== MIN_COMPOSE[0] ? v[0] > MIN_COMPOSE[0] : v[1] !== MIN_COMPOSE[1] ? v[1] > MIN_COMPOSE[1] : v[2] >= MIN_COMPOSE[2];
  return newer
    ? { name, status: 'pass', detail: `Compose ${v.join('.')}` }
    : { name, status: 'fail', detail: `Compose ${v.join('.')} is too old`, fix: 'upgrade the docker-compose-plugin package' };
}

export function checkCpus(cpus: number, profile: ProfileName): Check {
  const need = SIZING[profile].minCpus;
  return cpus >= need
    ? { name: 'CPU', status: 'pass', detail: `${cpus} CPUs (the ${profile} layout needs ${need})` }
    : { name: 'CPU', status: 'fail', detail: `${cpus} CPUs; the ${profile} layout needs ${need}`, fix: profile === 'large' ? 'choose --profile small, or a machine with more CPUs' : 'use a machine with more CPUs' };
}

export function checkMemory(bytes: number, profile: ProfileName): Check {
  const need = SIZING[profile].minMemoryGiB;
  const have = bytes / GiB;
  const limits = (memoryBudgetMiB(profile) / 1024).toFixed(1);
  // Firmware and the kernel keep some memory, so an 8 GiB machine reports ~7.6 GiB.
  return have >= need * 0.9
    ? { name: 'Memory', status: 'pass', detail: `${have.toFixed(1)} GiB (the ${profile} layout needs ${need} GiB; its containers are limited to ${limits} GiB)` }
    : { name: 'Memory', status: 'fail', detail: `${have.toFixed(1)} GiB; the ${profile} layout needs ${need} GiB`, fix: profile === 'large' ? 'choose --profile small, or add memory' : 'add memory' };
}

export function checkDisk(label: string, freeBytes: number | undefined, profile: ProfileName): Check {
  const need = SIZING[profile].minDiskGiB;
  const name = `Disk (${label})`;
  if (freeBytes === undefined) return { name, status: 'warn', detail: 'free space could not be read', fix: `make sure ${need} GiB are free there` };
  const have = freeBytes / GiB;
  return have >= need
    ? { name, status: 'pass', detail: `${have.toFixed(0)} GiB free (the ${profile} layout needs ${need} GiB)` }
    : { name, status: 'fail', detail: `${have.toFixed(1)} GiB free; the ${profile} layout needs ${need} GiB`, fix: 'free space, or move the folder / Docker\'s data-root (/etc/docker/daemon.json) to a larger disk' };
}

export function checkPort(port: number, free: boolean, ownInstall: boolean): Check {
  const name = `Port ${port} free`;
  if (free) return { name, status: 'pass', detail: 'nothing listens on it' };
  if (ownInstall) return { name, status: 'pass', detail: 'in use by this Almanac installation' };
  return { name, status: 'fail', detail: `another program listens on ${port}`, fix: `choose another with --http-port, or find it with: sudo ss -ltnp 'sport = :${port}'` };
}

export function checkClock(now: number, ntp: RunResult | undefined): Check {
  const name = 'Clock';
  if (now < CLOCK_FLOOR) {
    return { name, status: 'fail', detail: `the clock says ${new Date(now).toISOString()}, before this release`, fix: 'set the time and enable NTP: sudo timedatectl set-ntp true' };
  }
  const synced = ntp?.code === 0 ? ntp.stdout.trim() : undefined;
  if (synced === 'yes') return { name, status: 'pass', detail: `${new Date(now).toISOString()}, synchronised by NTP` };
  if (synced === 'no') {
    return { name, status: 'warn', detail: `${new Date(now).toISOString()}, not synchronised`, fix: 'enable NTP (sudo timedatectl set-ntp true): event times, rollup buckets and Kafka retention follow this clock' };
  }
  return { name, status: 'warn', detail: `${new Date(now).toISOString()}; NTP state unknown (no timedatectl)`, fix: 'make sure an NTP client (chrony, systemd-timesyncd) keeps the clock right' };
}

export interface PreflightProbes {
  run(argv: string[]): Promise<RunResult>;
  cpus(): number;
  totalMemory(): number;
  freeDisk(dir: string): Promise<number | undefined>;
  portFree(port: number): Promise<boolean>;
  now(): number;
}

export interface PreflightInput { profile: ProfileName; dir: string; httpPort: number; /** The port belongs to an existing installation of this folder. */ ownInstall: boolean }

export async function runPreflight(input: PreflightInput, probes: PreflightProbes): Promise<Check[]> {
  const engine = checkDockerEngine(await probes.run(['docker', 'version', '--format', '{{.Server.Version}}']));
  const checks: Check[] = [engine, checkCompose(await probes.run(['docker', 'compose', 'version', '--short']))];
  checks.push(checkCpus(probes.cpus(), input.profile), checkMemory(probes.totalMemory(), input.profile));
  checks.push(checkDisk(input.dir, await probes.freeDisk(input.dir), input.profile));
  if (engine.status === 'pass') {
    const root = await probes.run(['docker', 'info', '--format', '{{.DockerRootDir}}']);
    const dir = root.stdout.trim();
    if (root.code === 0 && dir && path.resolve(dir) !== path.resolve(input.dir)) checks.push(checkDisk(`Docker volumes, ${dir}`, await probes.freeDisk(dir), input.profile));
  }
  checks.push(checkPort(input.httpPort, await probes.portFree(input.httpPort), input.ownInstall));
  checks.push(checkClock(probes.now(), await probes.run(['timedatectl', 'show', '--property=NTPSynchronized', '--value'])));
  return checks;
}

export function formatChecks(checks: Check[]): string {
  const mark = { pass: '✓', warn: '!', fail: '✗' } as const;
  return checks.map((c) => `${mark[c.status]} ${c.name}: ${c.detail}${c.fix ? `\n    → ${c.fix}` : ''}`).join('\n');
}

export const preflightPassed = (checks: Check[]) => checks.every((c) => c.status !== 'fail');

export function systemProbes(run: (argv: string[]) => Promise<RunResult>): PreflightProbes {
  return {
    run,
    cpus: () => availableParallelism(),
    totalMemory: () => totalmem(),
    now: () => Date.now(),
    async freeDisk(dir) {
      // The folder may not exist yet: measure the nearest existing parent.
      let d = path.resolve(dir);
      while (!existsSync(d) && path.dirname(d) !== d) d = path.dirname(d);
      try {
        const s = await statfs(d);
        return s.bavail * s.bsize;
      } catch {
        return undefined;
      }
    },
    portFree: (port) => new Promise((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen({ port, host: '0.0.0.0', exclusive: true }, () => server.close(() => resolve(true)));
    }),
  };
}
