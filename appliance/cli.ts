/**
 * `almanac` — start the appliance, and manage tenants, tracking IDs and API keys before the
 * console exists. Registry commands work on the same storage the appliance uses (for the embedded
 * profile: the SQLite file in the data folder, safe to use while the appliance runs).
 */
import { flagsToEnv, loadConfig, type AlmanacConfig } from './config.ts';
import { ConfigError } from '../core/errors.ts';
import { createApiKey, createTenant, createTrackingId, UsageError } from './tenancy.ts';
import { openRegistryOnly } from './profiles.ts';
import { cliEnv } from './saved-settings.ts';
import { startAppliance } from './supervisor.ts';
import { adminUsersCommand, ADMIN_USERS_HELP } from './admin-api/cli-commands.ts';
import { embedCommand, EMBED_HELP, isEmbedCommand } from './embed-cli.ts';
import { startNodeSupervisor } from './scaling/node-supervisor.ts';
import { WORKER_READY_MESSAGE } from './scaling/worker-process.ts';
import { snippetFor } from '../collectors/index.ts';
import { cancelReplay, describeReplay, getReplay, listReplays, ReplayError, startReplay, type StartReplayInput } from '../pipeline/replay/index.ts';

const HELP = `almanac — self-hosted analytics appliance

Usage:
  almanac start [--port 8420] [--data-dir .data] [--profile embedded|cluster] [--roles collector,query,...]
  almanac tenants list
  almanac tenants create --name "Acme" [--rate-limit 1000] [--retention-days 730]
  almanac tracking-ids list [--tenant <tenantId>]
  almanac tracking-ids create --tenant <tenantId> --name "Shop" --origins https://shop.example[,https://www.shop.example]
  almanac tracking-ids snippet <trackingId> [--allow-localhost]
  almanac api-keys list [--tenant <tenantId>]
  almanac api-keys create --tenant <tenantId> [--name "dashboard"] [--admin]
  almanac replays start (--tracking-id <id>[,<id>] | --tenant <tenantId>) --from 2026-11-01 --to 2026-11-27 [--dry-run] [--source auto|log|archive]
  almanac replays list | replays show <replayId> | replays cancel <replayId>
${ADMIN_USERS_HELP}
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
    // Dashboards and embedding (issue 6): appliance/embed-cli.ts.
    if (isEmbedCommand(command, sub)) return await embedCommand(config, command, sub, args, flagEnv);
    return await registryCommand(config, command, sub, args, flagEnv);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UsageError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    if (error instanceof ReplayError) {
      process.stderr.write(`${error.message} (${error.code})\n`);
      return 1;
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
      throw new UsageError(`Cannot listen on ${config.host}:${config.port} (${code}): another program uses that port. Choose another with ALMANAC_PORT or --port.`);
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
  const registry = await openRegistryOnly(config);
  const print = (rows: unknown) => process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
  try {
    switch (`${command} ${sub ?? ''}`.trim()) {
      case 'tenants list':
        print(await registry.listTenants());
        return 0;
      case 'tenants create':
        print(await createTenant(registry, {
          name: flags.ALMANAC_NAME ?? '',
          rateLimitPerSec: optionalInt(flags.ALMANAC_RATE_LIMIT, '--rate-limit'),
          retentionDays: optionalInt(flags.ALMANAC_RETENTION_DAYS, '--retention-days'),
        }));
        return 0;
      case 'tracking-ids list':
        print(await registry.listTrackingIds(flags.ALMANAC_TENANT));
        return 0;
      case 'tracking-ids create': {
        const site = await createTrackingId(registry, {
          tenantId: required(flags.ALMANAC_TENANT, '--tenant'),
          name: flags.ALMANAC_NAME ?? 'Website',
          allowedOrigins: required(flags.ALMANAC_ORIGINS, '--origins').split(','),
          respectDnt: flags.ALMANAC_RESPECT_DNT === 'true',
        });
        print({ ...site, snippet: snippetFor(site.id, config.publicUrl) });
        return 0;
      }
      case 'tracking-ids snippet': {
        const id = required(args[0], '<trackingId>');
        if (!(await registry.getTrackingId(id))) throw new UsageError(`No tracking ID "${id}". List them with: almanac tracking-ids list`);
        process.stdout.write(snippetFor(id, config.publicUrl, { allowLocalhost: flags.ALMANAC_ALLOW_LOCALHOST === 'true' }) + '\n');
        return 0;
      }
      case 'api-keys list':
        print((await registry.listApiKeys(flags.ALMANAC_TENANT)).map(({ keyHash: _hidden, ...rest }) => rest));
        return 0;
      case 'api-keys create': {
        const { record, key } = await createApiKey(registry, {
          tenantId: required(flags.ALMANAC_TENANT, '--tenant'),
          name: flags.ALMANAC_NAME ?? 'api key',
          scope: flags.ALMANAC_ADMIN === 'true' ? 'admin' : 'tenant',
        });
        const { keyHash: _hidden, ...shown } = record;
        print({ ...shown, key, note: 'The key is shown once; store it now.' });
        return 0;
      }
      case 'replays start':
        // Queued here; the aggregator that owns each site's partition runs it (the appliance must be running).
        print(describeReplay(await startReplay(registry, {
          trackingIds: flags.ALMANAC_TRACKING_ID?.split(','),
          tenantId: flags.ALMANAC_TENANT,
          from: required(flags.ALMANAC_FROM, '--from'),
          to: required(flags.ALMANAC_TO, '--to'),
          dryRun: flags.ALMANAC_DRY_RUN === 'true',
          // auto (default): the event log while the range is within its retention, else the archive.
          source: flags.ALMANAC_SOURCE as StartReplayInput['source'],
        }, { eventLog: registry.eventLog })));
        return 0;
      case 'replays list':
        print((await listReplays(registry)).map(describeReplay));
        return 0;
      case 'replays show':
        print(describeReplay(await getReplay(registry, required(args[0], '<replayId>'))));
        return 0;
      case 'replays cancel':
        print(describeReplay(await cancelReplay(registry, required(args[0], '<replayId>'))));
        return 0;
      default:
        throw new UsageError(`Unknown command "${[command, sub].filter(Boolean).join(' ')}".\n\n${HELP}`);
    }
  } finally {
    await registry.close();
  }
}

function required(value: string | undefined, name: string): string {
  if (!value || value === 'true') throw new UsageError(`Missing ${name}. See: almanac help`);
  return value;
}

function optionalInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name} must be a positive whole number, got "${value}"`);
  return n;
}
