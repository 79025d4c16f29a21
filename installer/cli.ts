/**
 * `almanac-install`: installs, upgrades, backs up and removes the docker-compose appliance.
 * Guided (prompts) when run in a terminal without --yes; non-interactive with flags or --config.
 * Every command takes --dry-run and then prints each file it would write and command it would run.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseEnvFile, settingsFromEnv, type InstallSettings } from './env-file.ts';
import { defaultInput, InstallerUsageError, QUESTIONS, resolveInput, toSettings, type InstallInput } from './options.ts';
import { FILES, planBackup, planGenerate, planInstall, planRestore, planStatus, planUninstall, planUpgrade, type Plan } from './plan.ts';
import { runPlan, systemDeps, type ExecutorDeps } from './executor.ts';
import { formatChecks, preflightPassed, runPreflight, systemProbes, type PreflightProbes } from './preflight.ts';

const HELP = `almanac-install — the Almanac appliance on Docker Compose

Usage:
  almanac-install preflight  [--profile small|large] [--dir /opt/almanac] [--http-port 8080]
  almanac-install generate   [install flags]      write compose.yaml, haproxy.cfg and .env (secrets, mode 600)
  almanac-install install    [install flags]      preflight, generate, start, wait for health, migrate, first admin
  almanac-install upgrade    --to <version>       pull, migrate, rolling restart; rolls back on failed health
  almanac-install backup     [--offline]          registry + raw archive (mongodump), rollups (Cassandra snapshot), .env
  almanac-install restore    --from <backup>      a folder name under <dir>/backups
  almanac-install status
  almanac-install uninstall  [--purge]            keeps the data volumes unless --purge

Install flags (or the same keys in a JSON file given with --config):
  --dir /opt/almanac   --profile small|large   --docstore ferretdb|mongodb   --http-port 8080
  --public-url https://analytics.example.com   --image <repository>   --version <tag>   --project almanac
Common: --dry-run (print, change nothing)   --yes (no prompts)   --skip-preflight   --no-pull
`;

export interface CliDeps {
  executor: ExecutorDeps;
  probes: PreflightProbes;
  /** Asks one question; undefined in non-interactive use. */
  ask?: (question: string, fallback: string) => Promise<string>;
  hostname: string;
  version: string;
  now: () => Date;
  out: (line: string) => void;
}

export function parseArgs(argv: string[]): { command?: string; flags: Record<string, string> } {
  const flags: Record<string, string> = {};
  let command: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/.exec(argv[i]);
    if (!m) {
      if (command) throw new InstallerUsageError(`unexpected argument "${argv[i]}"`);
      command = argv[i];
      continue;
    }
    let value = m[2];
    if (value === undefined) {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) { value = next; i++; } else value = 'true';
    }
    flags[m[1]] = value;
  }
  return { command, flags };
}

export async function main(argv: string[], deps: CliDeps): Promise<number> {
  try {
    const { command, flags } = parseArgs(argv);
    if (!command || command === 'help' || flags.help) {
      deps.out(HELP);
      return command || flags.help ? 0 : 2;
    }
    const dryRun = flags['dry-run'] === 'true';
    const run = async (plan: Plan) => {
      const outcome = await runPlan(plan, deps.executor, { dryRun });
      if (!outcome.ok) deps.out(`almanac-install ${command} failed: ${outcome.error?.split('\n')[0]}`);
      else if (!dryRun) deps.out(outcome.changed === 0 && command === 'generate' ? 'Nothing to change: the installation already matches.' : `Done (${outcome.changed} change${outcome.changed === 1 ? '' : 's'}).`);
      return outcome.ok ? 0 : 1;
    };

    switch (command) {
      case 'preflight':
      case 'generate':
      case 'install': {
        const { input, settings, existingEnv } = await installInput(flags, deps);
        if (command !== 'generate') {
          const checks = await runPreflight({ profile: settings.profile, dir: input.dir, httpPort: settings.httpPort, ownInstall: Object.keys(existingEnv).length > 0 }, deps.probes);
          deps.out(`Preflight for the ${settings.profile} layout:\n${formatChecks(checks)}`);
          if (command === 'preflight') return preflightPassed(checks) ? 0 : 1;
          if (!preflightPassed(checks) && flags['skip-preflight'] !== 'true') {
            deps.out(dryRun ? '(dry run: showing the plan anyway)' : 'Fix the failures above and run again (or --skip-preflight to go on regardless).');
            if (!dryRun) return 1;
          }
        }
        const plan = command === 'generate'
          ? planGenerate(settings, input.dir, existingEnv)
          : planInstall(settings, input.dir, existingEnv, { pull: flags['no-pull'] !== 'true' });
        return await run(plan);
      }
      case 'upgrade': {
        const { dir, settings, envText } = installed(flags);
        const to = flags.to;
        if (!to || to === 'true') throw new InstallerUsageError('upgrade needs --to <version>, the image tag to move to');
        if (to === settings.version) { deps.out(`Already on ${to}.`); return 0; }
        return await run(planUpgrade(settings, dir, envText, to));
      }
      case 'backup': {
        const { dir, settings } = installed(flags);
        const stamp = deps.now().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
        return await run(planBackup(settings, dir, stamp, { offline: flags.offline === 'true' }));
      }
      case 'restore': {
        const { dir, settings } = installed(flags);
        const from = flags.from;
        if (!from || from === 'true' || !/^[\w.-]+$/.test(from)) throw new InstallerUsageError(`restore needs --from <name of a folder in ${path.join(dir, FILES.backups)}>`);
        if (!dryRun && !existsSync(path.join(dir, FILES.backups, from, 'docstore.archive.gz'))) {
          throw new InstallerUsageError(`${path.join(dir, FILES.backups, from)} is not an online backup (no docstore.archive.gz); offline backups are volume tarballs, restored by hand (README)`);
        }
        return await run(planRestore(settings, dir, from));
      }
      case 'status': {
        const { dir, settings } = installed(flags);
        return await run(planStatus(settings, dir));
      }
      case 'uninstall': {
        const { dir } = installed(flags);
        const purge = flags.purge === 'true';
        if (purge && !dryRun && flags.yes !== 'true') {
          const answer = deps.ask ? await deps.ask(`This deletes every event, rollup and tenant of ${dir}. Type "delete" to go on`, '') : '';
          if (answer !== 'delete') { deps.out('Not purged (confirm with --yes when not in a terminal).'); return 1; }
        }
        return await run(planUninstall(dir, { purge }));
      }
      default:
        throw new InstallerUsageError(`unknown command "${command}"; run almanac-install help`);
    }
  } catch (error) {
    if (error instanceof InstallerUsageError) {
      deps.out(`almanac-install: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

/** Inputs: defaults ← an existing installation's .env ← --config file ← flags ← answers to prompts. */
async function installInput(flags: Record<string, string>, deps: CliDeps): Promise<{ input: InstallInput; settings: InstallSettings; existingEnv: Record<string, string> }> {
  const configFile = flags.config ? readConfigFile(flags.config) : undefined;
  const dir = path.resolve(flags.dir ?? (configFile?.dir as string | undefined) ?? defaultInput(deps.version).dir);
  const envPath = path.join(dir, FILES.env);
  const existingEnv = existsSync(envPath) ? parseEnvFile(readFileSync(envPath, 'utf8')) : {};
  const fromInstall = Object.keys(existingEnv).length ? settingsFromEnv(existingEnv) : undefined;
  const defaults = { ...defaultInput(deps.version), ...(fromInstall ? { ...fromInstall, publicUrl: undefined } : {}), dir };
  const withPublicUrl = { ...(fromInstall?.publicUrl ? { publicUrl: fromInstall.publicUrl } : {}), ...configFile };
  let input = resolveInput({ flags: { ...flags, dir }, configFile: withPublicUrl, defaults });

  const guided = deps.ask && flags.yes !== 'true' && !flags.config;
  if (guided) {
    const answers: Record<string, string> = {};
    for (const q of QUESTIONS) {
      if (flags[q.field === 'httpPort' ? 'http-port' : q.field === 'publicUrl' ? 'public-url' : q.field]) continue;
      const current = q.field === 'publicUrl' ? toSettings(input, deps.hostname).publicUrl : String(input[q.field] ?? '');
      answers[q.field] = (await deps.ask!(`${q.question}${q.choices ? ` [${q.choices.join('/')}]` : ''}`, current)).trim() || current;
    }
    input = resolveInput({ flags: {}, configFile: { ...input, ...answers, httpPort: Number(answers.httpPort ?? input.httpPort) }, defaults });
  }
  return { input, settings: toSettings(input, deps.hostname), existingEnv };
}

function readConfigFile(file: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new InstallerUsageError(`--config ${file}: ${(error as Error).message} (a JSON object with dir, profile, docstore, httpPort, publicUrl, image, version, projectName)`);
  }
}

function installed(flags: Record<string, string>): { dir: string; settings: InstallSettings; envText: string } {
  const dir = path.resolve(flags.dir ?? '/opt/almanac');
  const envPath = path.join(dir, FILES.env);
  if (!existsSync(envPath)) throw new InstallerUsageError(`no installation in ${dir} (no ${FILES.env}); give --dir, or install first`);
  const envText = readFileSync(envPath, 'utf8');
  return { dir, settings: settingsFromEnv(parseEnvFile(envText)), envText };
}

/** The real machine: prompts only in a terminal. */
export function systemCliDeps(version: string): CliDeps {
  const executor = systemDeps();
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  return {
    executor,
    probes: systemProbes((argv) => executor.run(argv, { quiet: true })),
    hostname: os.hostname(),
    version,
    now: () => new Date(),
    out: (line) => process.stdout.write(`${line}\n`),
    ask: interactive
      ? async (question, fallback) => {
        const rl = createInterface({ input: process.stdin, output: process.stdout });
        try {
          return await rl.question(`${question}${fallback ? ` (${fallback})` : ''}: `);
        } finally {
          rl.close();
        }
      }
      : undefined,
  };
}
