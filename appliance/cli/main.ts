/**
 * `almanac`: start the appliance, and manage tenants, tracking IDs, API keys, replays, admin
 * users and embed tokens from the command line, one module per area, each thin over control/.
 * Registry commands work on the same storage the appliance uses (for the embedded profile: the
 * SQLite file in the data folder, safe to use while the appliance runs). A control operation's
 * refusal is printed with its code and exits with the code's exit code (control/errors.ts).
 */
import { flagsToEnv, loadConfig, type AlmanacConfig } from '../main/config.ts';
import { ConfigError } from '../../core/errors.ts';
import { ControlError, exitCode } from '../../control/errors.ts';
import { openRegistryOnly } from '../main/profiles.ts';
import { cliEnv } from '../main/saved-settings.ts';
import { startAppliance } from '../main/run.ts';
import { startNodeSupervisor } from '../scaling/node-supervisor.ts';
import { WORKER_READY_MESSAGE } from '../scaling/worker-process.ts';
import type { CliCommand } from './context.ts';
import { TENANT_COMMANDS, TENANTS_HELP } from './tenants.ts';
import { TRACKING_ID_COMMANDS, TRACKING_IDS_HELP } from './tracking-ids.ts';
import { API_KEY_COMMANDS, API_KEYS_HELP } from './api-keys.ts';
import { REPLAY_COMMANDS, REPLAYS_HELP } from './replays.ts';
import { adminUsersCommand, ADMIN_USERS_HELP } from './admin-users.ts';
import { embedCommand, EMBED_HELP, isEmbedCommand } from './embed.ts';

const REGISTRY_COMMANDS: Record<string, CliCommand> = { ...TENANT_COMMANDS, ...TRACKING_ID_COMMANDS, ...API_KEY_COMMANDS, ...REPLAY_COMMANDS };

const HELP = `almanac — self-hosted analytics appliance

Usage:
  almanac start [--port 8420] [--data-dir .data] [--profile embedded|cluster] [--roles collector,query,...]
${TENANTS_HELP}${TRACKING_IDS_HELP}${API_KEYS_HELP}${REPLAYS_HELP}${ADMIN_USERS_HELP}
${EMBED_HELP}
Every --flag is also an environment variable: --data-dir is ALMANAC_DATA_DIR, --port is ALMANAC_PORT.
Commands other than start use the profile, namespace and public URL the appliance saved in
<data-dir>/appliance.json when it started; a --profile or --namespace that disagrees is refused.
`;

/** `wiring.hooksModule`: see startAppliance; only a test harness's entry (tests/support/hooked-almanac.mjs) sets it. */
export async function main(argv: string[], processEnv: NodeJS.ProcessEnv, wiring: { hooksModule?: string } = {}): Promise<number> {
  const { env: flagEnv, rest } = flagsToEnv(argv);
  const env = { ...processEnv, ...flagEnv };
  const [command, sub, ...args] = rest;
  try {
    if (!command || command === 'help' || flagEnv.ALMANAC_HELP) {
      process.stdout.write(HELP);
      return 0;
    }
    // Every command but start works on the storage of the appliance that runs with this data
    // folder: its saved settings (appliance.json) fill in the profile, namespace and public URL.
    const config = loadConfig(command === 'start' ? env : cliEnv(env));
    if (command === 'start') return await start(config, env, wiring);
    if (command === 'admin-users') return await adminUsersCommand(config, sub, args, flagEnv, env);
    // Dashboards and embedding: appliance/cli/embed.ts.
    if (isEmbedCommand(command, sub)) return await embedCommand(config, command, sub, args, flagEnv);
    return await registryCommand(config, command, sub, args, flagEnv);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    if (error instanceof ControlError) {
      process.stderr.write(`${error.message} (${error.code})\n`);
      return exitCode(error.code);
    }
    throw error;
  }
}

async function start(config: Readonly<AlmanacConfig>, env: NodeJS.ProcessEnv, wiring: { hooksModule?: string }): Promise<number> {
  let appliance: { stop(): Promise<void> };
  const log = (m: string) => process.stdout.write(`${m}\n`);
  try {
    // Cluster profile without ALMANAC_ROLES: this process supervises worker processes (appliance/scaling).
    appliance = config.node.supervise
      ? await startNodeSupervisor(config, { env, log })
      : await startAppliance(config, { log, hooksModule: wiring.hooksModule });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      throw new ConfigError([`Cannot listen on ${config.host}:${config.port} (${code}): another program uses that port. Choose another with ALMANAC_PORT or --port.`]);
    }
    throw error;
  }
  await new Promise<void>((resolve) => {
    // A second signal while stopping is ignored: Ctrl-C reaches a supervisor's workers as SIGINT
    // and the supervisor then sends them SIGTERM; neither may cut their graceful stop short.
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      process.stdout.write(`\n${signal}: stopping (finishing batches in flight)…\n`);
      appliance.stop().then(resolve, (e) => {
        process.stderr.write(`error while stopping: ${(e as Error).message}\n`);
        resolve();
      });
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    // A worker of a supervised node: say when its roles run, and stop when the supervisor is gone.
    if (config.node.workerOf && process.send) {
      process.send({ type: WORKER_READY_MESSAGE });
      process.once('disconnect', () => stop('supervisor gone'));
    }
  });
  return 0;
}

async function registryCommand(
  config: Readonly<AlmanacConfig>,
  command: string,
  sub: string | undefined,
  args: string[],
  flags: Record<string, string | undefined>,
): Promise<number> {
  const run = REGISTRY_COMMANDS[`${command} ${sub ?? ''}`.trim()];
  if (!run) throw new ControlError('invalid_request', `Unknown command "${[command, sub].filter(Boolean).join(' ')}".\n\n${HELP}`);
  const registry = await openRegistryOnly(config);
  const write = (text: string) => process.stdout.write(text);
  try {
    await run({ config, registry, args, flags, write, print: (value) => write(JSON.stringify(value, null, 2) + '\n') });
    return 0;
  } finally {
    await registry.close();
  }
}
