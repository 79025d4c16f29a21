/**
 * Tasks the installer runs where the appliance's settings are: inside an Almanac container
 * (`docker compose run --rm migrate`, `docker compose exec admin …`) or, in tests, as a local
 * process against the native stack. Settings come from the same ALMANAC_* variables the appliance
 * reads. Results go to stdout as JSON (the installer keeps them); progress goes to stderr.
 *
 *   migrate      the Kafka topic, the Cassandra schema (versioned migrations), the registry's
 *                indexes — what every node would otherwise do at its own start, done once first
 *   first-admin  the first tenant, tracking ID and admin API key (kept when they exist)
 */
import { existsSync, readFileSync } from 'node:fs';
import { loadConfig, type AlmanacConfig } from '../appliance/main/config.ts';
import { openStorage } from '../appliance/main/profiles.ts';
import { ensureFirstTenant, type Credentials } from '../appliance/main/first-start.ts';
import { createApiKey } from '../control/api-keys.ts';
import { snippetFor } from '../collectors/index.ts';

export const TASKS = ['migrate', 'first-admin'] as const;
export type TaskName = (typeof TASKS)[number];

export interface MigrateReport {
  task: 'migrate';
  profile: AlmanacConfig['profile'];
  namespace: string;
  partitions: number;
  /** Cassandra migrations this run applied (empty: the schema was current) and the version after it. */
  cassandra?: { applied: number[]; version: number };
}

export async function migrateTask(config: Readonly<AlmanacConfig>): Promise<MigrateReport> {
  const storage = await openStorage(config);
  try {
    const migrations = (storage as { migrations?: { applied: number[]; version: number } }).migrations;
    return {
      task: 'migrate',
      profile: config.profile,
      namespace: config.cluster.namespace,
      partitions: config.partitions,
      ...(migrations ? { cassandra: { applied: migrations.applied, version: migrations.version } } : {}),
    };
  } finally {
    await storage.close();
  }
}

export interface FirstAdminReport extends Partial<Credentials> {
  task: 'first-admin';
  /** created: a new first tenant; existing: the credentials the admin node wrote; new-key: an admin key added to the first tenant. */
  outcome: 'created' | 'existing' | 'new-key';
  adminApiKey: string;
  tenantId: string;
  /** What to do when part of the first credentials cannot be recovered. */
  note?: string;
}

export async function firstAdminTask(config: Readonly<AlmanacConfig>): Promise<FirstAdminReport> {
  const storage = await openStorage(config);
  try {
    // The first tenant, its admin API key and the first admin user (owner) of the console, as the
    // admin node makes them at its first start; nothing is made twice.
    const first = await ensureFirstTenant(storage.registry, { dataDir: config.dataDir, publicUrl: config.publicUrl, snippetFor });
    if (first.created && first.credentials) return { task: 'first-admin', outcome: 'created', ...first.credentials };
    const saved = existsSync(first.credentialsPath) ? (JSON.parse(readFileSync(first.credentialsPath, 'utf8')) as Partial<Credentials>) : {};
    if (saved.adminApiKey && saved.tenantId) return { task: 'first-admin', outcome: 'existing', ...saved, adminApiKey: saved.adminApiKey, tenantId: saved.tenantId };
    // Tenants exist but this data folder never saw their credentials (the admin node's volume was
    // lost, or the task runs elsewhere): an admin key of its own, so the installer holds one.
    const tenants = await storage.registry.listTenants();
    const tenant = [...tenants].sort((a, b) => a.createdAt - b.createdAt)[0];
    const { key } = await createApiKey(storage.registry, { tenantId: tenant.id, name: 'installer admin key', scope: 'admin' });
    const report: FirstAdminReport = {
      ...saved, task: 'first-admin', outcome: 'new-key', tenantId: tenant.id, adminApiKey: key,
      collectorUrl: config.publicUrl, statsUrl: `${config.publicUrl}/api/v1/stats`,
    };
    if (!report.adminPassword && (await storage.registry.listAdminUsers()).length) {
      report.note = 'The console\'s admin users exist already and their passwords are not stored here: set a new one with almanac admin-users reset-password <username>.';
    }
    return report;
  } finally {
    await storage.close();
  }
}

export async function runTask(argv: string[], env: Record<string, string | undefined>, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const name = argv[0] as TaskName;
  if (!TASKS.includes(name)) {
    err.write(`almanac-task: unknown task "${argv[0] ?? ''}"; one of: ${TASKS.join(', ')}\n`);
    return 2;
  }
  try {
    const config = loadConfig(env);
    err.write(`almanac-task: ${name} (${config.profile} profile, namespace ${config.cluster.namespace})\n`);
    const report = name === 'migrate' ? await migrateTask(config) : await firstAdminTask(config);
    out.write(JSON.stringify(report, null, 2) + '\n');
    return 0;
  } catch (error) {
    err.write(`almanac-task: ${name} failed: ${(error as Error).message}\n`);
    return 1;
  }
}
