/**
 * The installer's command line with a fake machine: guided prompts, the non-interactive modes
 * (flags, --config), usage errors naming the flag, and commands on an existing installation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main, parseArgs, type CliDeps } from './cli.ts';
import { parseEnvFile } from './env-file.ts';
import type { RunResult } from './executor.ts';

const GiB = 1024 ** 3;

function machine(answers: Record<string, string> = {}, engine = false) {
  const out: string[] = [];
  const calls: string[][] = [];
  const questions: string[] = [];
  const ok = (stdout = ''): RunResult => ({ code: 0, stdout, stderr: '' });
  let clock = 0;
  const deps: CliDeps = {
    hostname: 'box.example',
    version: '0.1.0',
    now: () => new Date('2026-11-27T12:00:00Z'),
    out: (l) => out.push(l),
    executor: {
      log: (l) => out.push(l), now: () => clock, sleep: async (ms) => { clock += ms; }, fetchOk: async () => true,
      run: async (argv) => {
        calls.push(argv);
        // `ps --format json <services>`: every service asked for runs and is healthy.
        if (argv.includes('ps') && argv.includes('json')) return ok(argv.slice(argv.indexOf('json') + 1).map((s) => JSON.stringify({ Service: s, State: 'running', Health: 'healthy' })).join('\n'));
        return ok();
      },
    },
    probes: {
      run: async (argv) => argv[1] === 'version' ? (engine ? ok('27.3.1') : { code: 1, stdout: '', stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' })
        : argv[1] === 'compose' ? ok('2.29.7') : ok('yes'),
      cpus: () => 8, totalMemory: () => 32 * GiB, freeDisk: async () => 500 * GiB, portFree: async () => true, now: () => Date.UTC(2026, 10, 27),
    },
    ask: async (q, fallback) => {
      questions.push(q);
      const hit = Object.entries(answers).find(([k]) => q.toLowerCase().includes(k));
      return hit ? hit[1] : fallback;
    },
  };
  return { deps, out, calls, questions };
}

const dirIn = () => path.join(mkdtempSync(path.join(os.tmpdir(), 'almanac-cli-')), 'almanac');

test('parseArgs: --flag value, --flag=value, bare flags', () => {
  assert.deepEqual(parseArgs(['install', '--dir', '/x', '--dry-run', '--http-port=9000']), { command: 'install', flags: { dir: '/x', 'dry-run': 'true', 'http-port': '9000' } });
});

test('guided: the questions are asked, answers become the installation; defaults stand for empty answers', async () => {
  const dir = dirIn();
  const m = machine({ layout: 'large', 'document store': 'mongodb', 'public url': 'https://stats.acme.example' });
  const code = await main(['generate', '--dir', dir], m.deps);
  assert.equal(code, 0, m.out.join('\n'));
  assert.ok(m.questions.some((q) => /Layout/.test(q)));
  assert.ok(!m.questions.some((q) => /Installation folder/.test(q)), 'not asked what --dir gave');
  const env = parseEnvFile(readFileSync(path.join(dir, '.env'), 'utf8'));
  assert.equal(env.COMPOSE_PROFILES, 'large');
  assert.equal(env.ALMANAC_DOCSTORE, 'mongodb');
  assert.equal(env.ALMANAC_PUBLIC_URL, 'https://stats.acme.example');
  assert.equal(env.ALMANAC_HTTP_PORT, '8080');
  assert.match(env.ALMANAC_MONGO_PASSWORD, /^[A-Za-z0-9_-]{43}$/);
});

test('non-interactive: --yes with flags, or a --config file; flags win; a rerun keeps everything', async () => {
  const dir = dirIn();
  const config = path.join(path.dirname(dir), 'almanac.json');
  writeFileSync(config, JSON.stringify({ dir, profile: 'large', httpPort: 9090, publicUrl: 'https://a.example' }));
  const m = machine({ layout: 'small' });
  assert.equal(await main(['generate', '--config', config, '--http-port', '9191'], m.deps), 0, m.out.join('\n'));
  assert.equal(m.questions.length, 0, 'no prompts with --config');
  const env = parseEnvFile(readFileSync(path.join(dir, '.env'), 'utf8'));
  assert.deepEqual([env.COMPOSE_PROFILES, env.ALMANAC_HTTP_PORT, env.ALMANAC_PUBLIC_URL], ['large', '9191', 'https://a.example']);
  // A rerun without any input reads the installation back and changes nothing.
  const again = machine();
  assert.equal(await main(['generate', '--dir', dir, '--yes'], again.deps), 0);
  assert.ok(again.out.includes('Nothing to change: the installation already matches.'), again.out.join('\n'));
});

test('a wrong value names its flag and exits 2 before anything is written', async () => {
  const dir = dirIn();
  const m = machine();
  assert.equal(await main(['generate', '--dir', dir, '--yes', '--profile', 'huge'], m.deps), 2);
  assert.match(m.out.join('\n'), /--profile: .*got "huge"/);
  assert.equal(await main(['generate', '--dir', dir, '--yes', '--http-port', '70000'], m.deps), 2);
  assert.match(m.out.join('\n'), /--http-port: .*70000/);
  assert.equal(existsSync(dir), false);
});

test('install stops on a failed preflight (here: no Docker engine) and says what to do; --dry-run shows the plan anyway', async () => {
  const dir = dirIn();
  const m = machine();
  assert.equal(await main(['install', '--dir', dir, '--yes'], m.deps), 1);
  const text = m.out.join('\n');
  assert.match(text, /✗ Docker engine reachable: the Docker CLI is installed but no engine answers/);
  assert.match(text, /Fix the failures above/);
  assert.equal(m.calls.length, 0);
  assert.equal(existsSync(dir), false);

  const dry = machine();
  assert.equal(await main(['install', '--dir', dir, '--yes', '--dry-run'], dry.deps), 0);
  assert.match(dry.out.join('\n'), /docker compose .* up --detach kafka docstore cassandra redis/);
  assert.equal(existsSync(dir), false);
});

test('install with an engine: runs the whole plan and stores the first credentials with mode 600', async () => {
  const dir = dirIn();
  const m = machine({}, true);
  assert.equal(await main(['install', '--dir', dir, '--yes', '--no-pull'], m.deps), 0, m.out.join('\n'));
  const lines = m.calls.map((c) => c.join(' '));
  assert.ok(lines.some((l) => l.endsWith('run --rm --no-deps migrate')));
  assert.ok(lines.some((l) => l.endsWith('exec -T almanac node installer/bin/almanac-task.mjs first-admin')));
  assert.ok(!lines.some((l) => l.includes(' pull')));
  assert.match(m.out.join('\n'), /console: +https?:\/\/box\.example:8080\/console/);
});

test('commands on an installation: upgrade needs --to; restore needs a backup; uninstall --purge asks first', async () => {
  const dir = dirIn();
  await main(['generate', '--dir', dir, '--yes'], machine().deps);
  const m = machine({ delete: 'no' });
  assert.equal(await main(['upgrade', '--dir', dir], m.deps), 2);
  assert.match(m.out.join('\n'), /--to <version>/);
  assert.equal(await main(['upgrade', '--dir', dir, '--to', '0.1.0'], m.deps), 0);
  assert.match(m.out.join('\n'), /Already on 0\.1\.0/);
  assert.equal(await main(['restore', '--dir', dir, '--from', 'nope'], m.deps), 2);
  assert.equal(await main(['uninstall', '--dir', dir, '--purge'], m.deps), 1, 'not confirmed');
  assert.ok(existsSync(path.join(dir, '.env')));
  assert.equal(await main(['status', '--dir', path.join(dir, 'elsewhere')], m.deps), 2);
  assert.match(m.out.join('\n'), /no installation in .*elsewhere/);
  const dry = machine();
  assert.equal(await main(['backup', '--dir', dir, '--dry-run'], dry.deps), 0);
  assert.match(dry.out.join('\n'), /mongodump/);
  assert.equal(dry.calls.length, 0);
});
