/**
 * What each installer command does, as data: a list of steps (files to write, commands to run,
 * services to wait for) built by pure functions from the inputs. The executor (executor.ts) runs
 * a plan or, with --dry-run, prints it; tests check the plans without Docker.
 */
import path from 'node:path';
import { ALMANAC_SERVICES, DATA_SERVICES, adminService, renderCompose } from './compose.ts';
import { renderHaproxyConfig } from './haproxy.ts';
import { renderEnvFile, resolveSecrets, type InstallSettings } from './env-file.ts';

export type Step =
  | { kind: 'mkdir'; path: string; mode: number }
  /** `secret`: the content is never printed (dry run, logs). */
  | { kind: 'write'; path: string; content: string; mode: number; secret?: boolean }
  | {
    kind: 'run';
    argv: string[];
    why: string;
    /** Extra environment for the command (never secrets: those stay in .env). */
    env?: Record<string, string>;
    /** Standard output goes to this file (mode 600), not to the terminal. */
    stdoutTo?: string;
    /** Standard input comes from this file. */
    stdinFrom?: string;
  }
  /** Poll until the compose services are running and healthy (one-shot ones: exited 0). */
  | { kind: 'wait-services'; dir: string; services: string[]; timeoutMs: number }
  /** Poll until every URL answers 2xx. */
  | { kind: 'wait-http'; urls: string[]; timeoutMs: number }
  | { kind: 'remove'; path: string }
  | { kind: 'note'; text: string };

export interface Plan {
  title: string;
  steps: Step[];
  /** Run when a step fails (upgrade: back to the previous version). */
  onFailure?: Step[];
}

export const FILES = {
  compose: 'compose.yaml',
  haproxy: 'haproxy.cfg',
  env: '.env',
  previousEnv: '.env.previous',
  credentials: 'credentials.json',
  backups: 'backups',
};

/** `docker compose` bound to the installation's files. */
export function compose(dir: string, ...args: string[]): string[] {
  return ['docker', 'compose', '--project-directory', dir, '-f', path.join(dir, FILES.compose), '--env-file', path.join(dir, FILES.env), ...args];
}

/** The task runner inside the Almanac image (installer/tasks.ts). */
export const TASK_ENTRY = ['node', 'installer/bin/almanac-task.mjs'];

// ---------------------------------------------------------------------------------------------
// generate

export function planGenerate(settings: InstallSettings, dir: string, existingEnv: Record<string, string>, random?: (n: number) => Buffer): Plan {
  const secrets = resolveSecrets(existingEnv, settings.docstore, random);
  return {
    title: `generate the ${settings.profile} appliance in ${dir}`,
    steps: [
      { kind: 'mkdir', path: dir, mode: 0o750 },
      { kind: 'mkdir', path: path.join(dir, FILES.backups), mode: 0o700 },
      { kind: 'write', path: path.join(dir, FILES.compose), content: renderCompose({ docstore: settings.docstore }), mode: 0o644 },
      { kind: 'write', path: path.join(dir, FILES.haproxy), content: renderHaproxyConfig(), mode: 0o644 },
      { kind: 'write', path: path.join(dir, FILES.env), content: renderEnvFile(settings, secrets), mode: 0o600, secret: true },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// post-start: the same steps for a compose installation and for an appliance started natively

/** How the post-start steps reach the appliance: through compose, or as local processes. */
export interface Target {
  /** The command running a task of installer/tasks.ts (migrate, first-admin) where the appliance's settings are. */
  task(name: 'migrate' | 'first-admin'): Omit<Extract<Step, { kind: 'run' }>, 'why' | 'kind'>;
  /** Waits for the Almanac nodes to be ready. */
  waitReady: Step;
  consoleUrl: string;
  credentialsPath: string;
}

export function composeTarget(settings: InstallSettings, dir: string): Target {
  return {
    // `run --rm migrate`: the one-shot service with the new image, before any node uses the schema.
    task: (name) => ({ argv: name === 'migrate' ? compose(dir, 'run', '--rm', '--no-deps', 'migrate') : compose(dir, 'exec', '-T', adminService(settings.profile), ...TASK_ENTRY, name) }),
    waitReady: { kind: 'wait-services', dir, services: [...ALMANAC_SERVICES[settings.profile], 'lb'], timeoutMs: 5 * 60_000 },
    consoleUrl: `${settings.publicUrl}/console`,
    credentialsPath: path.join(dir, FILES.credentials),
  };
}

export function nativeTarget(opts: { root: string; env: Record<string, string>; nodeUrls: string[]; adminUrl: string; credentialsPath: string; node?: string }): Target {
  return {
    task: (name) => ({ argv: [opts.node ?? process.execPath, path.join(opts.root, 'installer/bin/almanac-task.mjs'), name], env: opts.env }),
    waitReady: { kind: 'wait-http', urls: opts.nodeUrls.map((u) => `${u}/healthz`), timeoutMs: 120_000 },
    consoleUrl: `${opts.adminUrl}/console`,
    credentialsPath: opts.credentialsPath,
  };
}

function taskStep(target: Target, name: 'migrate' | 'first-admin', why: string, stdoutTo?: string): Step {
  return { kind: 'run', ...target.task(name), why, ...(stdoutTo ? { stdoutTo } : {}) };
}

export function planMigrate(target: Target): Step[] {
  return [taskStep(target, 'migrate', 'migrations: Kafka topic, Cassandra schema versions, registry indexes (idempotent)')];
}

export function planPostStart(target: Target): Step[] {
  return [
    target.waitReady,
    taskStep(target, 'first-admin', 'first tenant, tracking ID and admin API key (kept if they exist)', target.credentialsPath),
    {
      kind: 'note',
      text: [
        'Almanac is ready.',
        `  console:      ${target.consoleUrl}  (desktop console: connect to ${target.consoleUrl.replace(/\/console$/, '')})`,
        `  sign in:      as the first admin user (owner) with the username and password in the credentials`,
        `  credentials:  ${target.credentialsPath} (mode 600): admin user and password, admin API key, tracking ID, server key`,
      ].join('\n'),
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// install

export function planInstall(settings: InstallSettings, dir: string, existingEnv: Record<string, string>, opts: { pull: boolean }, random?: (n: number) => Buffer): Plan {
  const target = composeTarget(settings, dir);
  return {
    title: `install Almanac ${settings.version} (${settings.profile}) in ${dir}`,
    steps: [
      ...planGenerate(settings, dir, existingEnv, random).steps,
      ...(opts.pull ? [{ kind: 'run', argv: compose(dir, 'pull', '--quiet'), why: 'download the pinned images' } as Step] : []),
      { kind: 'run', argv: compose(dir, 'up', '--detach', ...DATA_SERVICES), why: 'start Kafka, the document store, Cassandra and Redis' },
      { kind: 'wait-services', dir, services: [...DATA_SERVICES], timeoutMs: 6 * 60_000 },
      ...planMigrate(target),
      { kind: 'run', argv: compose(dir, 'up', '--detach', '--remove-orphans'), why: `start the Almanac nodes and the load balancer (${settings.profile} layout)` },
      ...planPostStart(target),
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// upgrade

/**
 * New images, migrations, then one Almanac service after another, each waited for; if a service
 * does not come back healthy, the previous `.env` (previous version) is restored and every Almanac
 * service restarted on it. Migrations only ever add (tables, columns, indexes), so the previous
 * version still runs on the migrated schema.
 */
export function planUpgrade(settings: InstallSettings, dir: string, currentEnvText: string, toVersion: string): Plan {
  const envPath = path.join(dir, FILES.env);
  const next = currentEnvText.replace(/^ALMANAC_VERSION=.*$/m, `ALMANAC_VERSION=${toVersion}`);
  const services = ALMANAC_SERVICES[settings.profile];
  const target = composeTarget({ ...settings, version: toVersion }, dir);
  return {
    title: `upgrade Almanac ${settings.version} → ${toVersion} (${settings.profile}) in ${dir}`,
    steps: [
      { kind: 'write', path: path.join(dir, FILES.previousEnv), content: currentEnvText, mode: 0o600, secret: true },
      { kind: 'write', path: envPath, content: next, mode: 0o600, secret: true },
      { kind: 'run', argv: compose(dir, 'pull', '--quiet'), why: `download Almanac ${toVersion} (and any re-pinned service image)` },
      ...planMigrate(target),
      ...services.flatMap((service): Step[] => [
        { kind: 'run', argv: compose(dir, 'up', '--detach', '--no-deps', service), why: `restart ${service} on ${toVersion}` },
        { kind: 'wait-services', dir, services: [service], timeoutMs: 3 * 60_000 },
      ]),
      { kind: 'run', argv: compose(dir, 'up', '--detach', '--remove-orphans'), why: 'bring the rest in line with the compose file' },
      { kind: 'wait-services', dir, services: [...services, 'lb'], timeoutMs: 3 * 60_000 },
      { kind: 'note', text: `Upgraded to ${toVersion}. The previous settings are kept in ${path.join(dir, FILES.previousEnv)}.` },
    ],
    onFailure: [
      { kind: 'note', text: `Upgrade to ${toVersion} failed: rolling back to ${settings.version}.` },
      { kind: 'write', path: envPath, content: currentEnvText, mode: 0o600, secret: true },
      { kind: 'run', argv: compose(dir, 'up', '--detach', '--no-deps', ...services), why: `restart the Almanac services on ${settings.version}` },
      { kind: 'wait-services', dir, services: [...services], timeoutMs: 3 * 60_000 },
      { kind: 'note', text: `Rolled back to ${settings.version}; see the logs with: ${compose(dir, 'logs', '--tail', '200').join(' ')}` },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// backup and restore

const KEYSPACE = 'almanac';
const CASSANDRA_DATA = '/var/lib/cassandra/data';

/**
 * Online backups, each store by its own tool, so the appliance keeps taking events:
 * - document store (registry: tenants, tracking IDs, keys, jobs; raw event archive): one
 *   `mongodump --archive --gzip`, run from the `tools` container against FerretDB or MongoDB;
 * - Cassandra rollups: `nodetool snapshot` (hard links, consistent per table, instant) packed into
 *   a tar, plus the schema; restored with `nodetool import` into the migrated tables;
 * - `.env` and credentials.json (secrets: mode 600).
 * Kafka is not backed up: it holds the last days of events, all of them also in the archive.
 * Per-volume tarballs would need every container stopped to be consistent; they are offered as
 * `--offline` for moving a whole installation to another machine.
 */
export function planBackup(settings: InstallSettings, dir: string, stamp: string, opts: { offline: boolean }): Plan {
  const to = path.join(dir, FILES.backups, stamp);
  const inContainer = `/backups/${stamp}`;
  if (opts.offline) {
    const project = settings.projectName;
    const image = `${settings.image}:${settings.version}`;
    const volumes = ['kafka-data', 'docstore-data', 'cassandra-data', 'almanac-data'];
    return {
      title: `offline backup of every volume to ${to}`,
      steps: [
        { kind: 'mkdir', path: to, mode: 0o700 },
        { kind: 'run', argv: compose(dir, 'stop'), why: 'stop every container so the volumes are consistent' },
        ...volumes.map((v): Step => ({
          kind: 'run',
          argv: ['docker', 'run', '--rm', '-v', `${project}_${v}:/volume:ro`, '-v', `${to}:/backup`, '--entrypoint', 'tar', image, '-czf', `/backup/${v}.tar.gz`, '-C', '/volume', '.'],
          why: `pack the ${v} volume`,
        })),
        ...copySettings(dir, to),
        { kind: 'run', argv: compose(dir, 'start'), why: 'start the appliance again' },
      ],
    };
  }
  return {
    title: `backup to ${to}`,
    steps: [
      { kind: 'mkdir', path: to, mode: 0o700 },
      {
        kind: 'run',
        argv: compose(dir, 'run', '--rm', '--no-deps', '-T', 'tools', 'sh', '-c', `mongodump --quiet --uri "$ALMANAC_MONGO_URL" --gzip --archive=${inContainer}/docstore.archive.gz`),
        why: 'registry and raw event archive (mongodump)',
      },
      { kind: 'run', argv: compose(dir, 'exec', '-T', 'cassandra', 'cqlsh', '-e', `DESCRIBE KEYSPACE ${KEYSPACE}`), stdoutTo: path.join(to, 'cassandra-schema.cql'), why: 'rollup schema' },
      { kind: 'run', argv: compose(dir, 'exec', '-T', 'cassandra', 'nodetool', 'snapshot', '--tag', stamp, KEYSPACE), why: 'snapshot the rollups (hard links, no pause)' },
      {
        kind: 'run',
        argv: compose(dir, 'exec', '-T', 'cassandra', 'sh', '-c', `cd ${CASSANDRA_DATA}/${KEYSPACE} && tar -cf - */snapshots/${stamp}`),
        stdoutTo: path.join(to, 'cassandra-rollups.tar'),
        why: 'copy the snapshot out',
      },
      { kind: 'run', argv: compose(dir, 'exec', '-T', 'cassandra', 'nodetool', 'clearsnapshot', '-t', stamp, '--', KEYSPACE), why: 'drop the snapshot inside the container' },
      ...copySettings(dir, to),
      { kind: 'note', text: `Backup written to ${to}. Copy it off this machine; it holds the secrets (.env).` },
    ],
  };
}

function copySettings(dir: string, to: string): Step[] {
  return [
    { kind: 'run', argv: ['cp', '-p', path.join(dir, FILES.env), path.join(to, 'env')], why: 'settings and secrets' },
    { kind: 'run', argv: ['sh', '-c', `[ ! -f "$1" ] || cp -p "$1" "$2"`, 'copy-credentials', path.join(dir, FILES.credentials), path.join(to, FILES.credentials)], why: 'first credentials, if present' },
  ];
}

/** Restore an online backup into this installation (same or fresh): stores replaced, then restart. */
export function planRestore(settings: InstallSettings, dir: string, stamp: string): Plan {
  const from = path.join(dir, FILES.backups, stamp);
  const inContainer = `/backups/${stamp}`;
  const services = ALMANAC_SERVICES[settings.profile];
  // Each table's snapshot is imported into the table of that name (its directory is <table>-<id>).
  const importRollups = [
    `set -e; r=/var/lib/cassandra/restore-${stamp}; rm -rf "$r"; mkdir -p "$r"; tar -xf - -C "$r";`,
    `for d in "$r"/*/snapshots/${stamp}; do t=$(basename "$(dirname "$(dirname "$d")")"); t=\${t%-*};`,
    `cqlsh -e "TRUNCATE ${KEYSPACE}.$t"; nodetool import ${KEYSPACE} "$t" "$d"; done; rm -rf "$r"`,
  ].join(' ');
  return {
    title: `restore ${from}`,
    steps: [
      { kind: 'run', argv: compose(dir, 'stop', ...services), why: 'stop the Almanac nodes (the stores keep running)' },
      { kind: 'wait-services', dir, services: [...DATA_SERVICES], timeoutMs: 6 * 60_000 },
      ...planMigrate(composeTarget(settings, dir)),
      {
        kind: 'run',
        argv: compose(dir, 'run', '--rm', '--no-deps', '-T', 'tools', 'sh', '-c', `mongorestore --quiet --uri "$ALMANAC_MONGO_URL" --drop --gzip --archive=${inContainer}/docstore.archive.gz`),
        why: 'registry and raw archive (mongorestore --drop)',
      },
      { kind: 'run', argv: compose(dir, 'exec', '-T', 'cassandra', 'sh', '-c', importRollups), stdinFrom: path.join(from, 'cassandra-rollups.tar'), why: 'rollups (nodetool import per table)' },
      { kind: 'run', argv: compose(dir, 'up', '--detach'), why: 'start the Almanac nodes' },
      { kind: 'wait-services', dir, services: [...services, 'lb'], timeoutMs: 5 * 60_000 },
      { kind: 'note', text: 'Restored. Aggregators resume from the restored checkpoints; events still in Kafka are counted once (duplicates are detected).' },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// status and uninstall

export function planStatus(settings: InstallSettings, dir: string): Plan {
  return {
    title: `status of ${dir}`,
    steps: [
      { kind: 'run', argv: compose(dir, 'ps', '--all'), why: 'containers and their health' },
      { kind: 'wait-http', urls: [`http://127.0.0.1:${settings.httpPort}/healthz`], timeoutMs: 0 },
    ],
  };
}

/** Stops and removes the containers; named volumes (all data) stay unless `purge`. */
export function planUninstall(dir: string, opts: { purge: boolean }): Plan {
  return {
    title: opts.purge ? `uninstall and DELETE ALL DATA of ${dir}` : `uninstall ${dir} (data volumes kept)`,
    steps: [
      { kind: 'run', argv: compose(dir, 'down', '--remove-orphans', ...(opts.purge ? ['--volumes'] : [])), why: opts.purge ? 'remove containers, networks and data volumes' : 'remove containers and networks' },
      ...(opts.purge
        ? [FILES.compose, FILES.haproxy, FILES.env, FILES.previousEnv, FILES.credentials].map((f): Step => ({ kind: 'remove', path: path.join(dir, f) }))
        : []),
      {
        kind: 'note',
        text: opts.purge
          ? `Removed. Backups in ${path.join(dir, FILES.backups)} were kept.`
          : `Removed the containers; the data volumes and ${dir} are kept: almanac-install install --dir ${dir} brings it back.`,
      },
    ],
  };
}

