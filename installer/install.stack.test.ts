/**
 * The install's post-start steps — migrations, waiting for health, the first admin — run by the
 * installer's own plan and executor against an appliance started natively on the real stack.
 * Inside Docker the same tasks run through `docker compose run/exec`; here they run as local
 * processes with the same ALMANAC_* settings (installer/plan.ts nativeTarget).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { freshNamespace, startRoleProcess, type Namespace, type RoleProcess } from '../tests/support/cluster.ts';
import { nativeTarget, planMigrate, planPostStart, type Step } from './plan.ts';
import { runPlan, systemDeps } from './executor.ts';
import { MIGRATIONS } from '../appliance/storage/cluster/cassandra-schema.ts';
import type { FirstAdminReport, MigrateReport } from './tasks.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let ns: Namespace;
const processes: RoleProcess[] = [];
const work = mkdtempSync(path.join(os.tmpdir(), 'almanac-install-stack-'));
const log: string[] = [];
const deps = systemDeps((l) => log.push(l));

before(() => {
  ns = freshNamespace('inst');
});
after(async () => {
  for (const p of processes.reverse()) await p.stop();
  await ns?.drop();
});

/** The migrate step of the plan, its JSON report kept in a file. */
async function migrate(env: Record<string, string>, name: string): Promise<MigrateReport> {
  const target = nativeTarget({ root, env, nodeUrls: [], adminUrl: 'http://unused', credentialsPath: '' });
  const out = path.join(work, name);
  const [step] = planMigrate(target) as Extract<Step, { kind: 'run' }>[];
  const r = await runPlan({ title: `migrate (${name})`, steps: [{ ...step, stdoutTo: out }] }, deps, { dryRun: false });
  assert.equal(r.ok, true, `${r.error}\n${log.join('\n')}`);
  return JSON.parse(readFileSync(out, 'utf8')) as MigrateReport;
}

test('install on the native stack: migrations before the nodes, health waits, first admin; a second run changes nothing', async () => {
  // 1. Migrations on an empty namespace, before any node: every Cassandra migration is applied.
  const first = await migrate(ns.env, 'migrate-1.json');
  assert.equal(first.profile, 'cluster');
  assert.equal(first.namespace, ns.name);
  assert.deepEqual(first.cassandra!.applied, MIGRATIONS.map((m) => m.version));

  // 2. The nodes, as the large layout runs them: admin, collector, pipeline, query.
  const admin = await startRoleProcess(ns.env, 'admin');
  processes.push(admin);
  const others = await Promise.all(['collector', 'archiver,aggregator', 'query'].map((roles) => startRoleProcess(ns.env, roles)));
  processes.push(...others);

  // 3. The post-start plan: wait for every node's /healthz, migrate again, first admin.
  const credentialsPath = path.join(work, 'credentials.json');
  const env = { ...ns.env, ALMANAC_DATA_DIR: admin.dataDir, ALMANAC_PUBLIC_URL: admin.url };
  const target = nativeTarget({ root, env, nodeUrls: [admin, ...others].map((p) => p.url), adminUrl: admin.url, credentialsPath });
  const outcome = await runPlan({ title: 'post-start', steps: [...planMigrate(target), ...planPostStart(target)] }, deps, { dryRun: false });
  assert.equal(outcome.ok, true, `${outcome.error}\n${log.join('\n')}`);
  for (const p of [admin, ...others]) assert.ok(log.some((l) => l.includes(`${p.url}/healthz: ready`)), `waited for ${p.url}`);

  // The first admin is the one the admin node created at its first start, now held by the installer (mode 600).
  assert.equal(statSync(credentialsPath).mode & 0o777, 0o600);
  const creds = JSON.parse(readFileSync(credentialsPath, 'utf8')) as FirstAdminReport;
  assert.equal(creds.outcome, 'existing');
  assert.equal(creds.adminApiKey, admin.credentials().adminApiKey);
  // The console's first admin user (owner) comes with it.
  assert.equal(creds.adminUsername, 'admin');
  assert.ok((creds.adminPassword ?? '').length >= 12, 'a generated password');
  const status = await fetch(`${admin.url}/api/admin/status`, { headers: { authorization: `Bearer ${creds.adminApiKey}` } });
  assert.equal(status.status, 200, await status.text());
  assert.ok(log.some((l) => l.includes(`console:      ${admin.url}/console`)), 'says how to reach the console');

  // 4. Idempotent: the schema is current, the tenant is not created twice.
  const second = await migrate(ns.env, 'migrate-2.json');
  assert.deepEqual(second.cassandra!.applied, []);
  assert.equal(second.cassandra!.version, first.cassandra!.version);
  assert.equal(await countTenants(), 1);

  // 5. The installer lost the admin node's credentials (a fresh data folder): it gets an admin key
  //    of its own for the existing first tenant instead of a second tenant.
  const lostPath = path.join(work, 'credentials-recovered.json');
  const elsewhere = nativeTarget({ root, env: { ...env, ALMANAC_DATA_DIR: mkdtempSync(path.join(work, 'data-')) }, nodeUrls: [admin.url], adminUrl: admin.url, credentialsPath: lostPath });
  assert.equal((await runPlan({ title: 'first admin again', steps: planPostStart(elsewhere) }, deps, { dryRun: false })).ok, true, log.join('\n'));
  const recovered = JSON.parse(readFileSync(lostPath, 'utf8')) as FirstAdminReport;
  assert.equal(recovered.outcome, 'new-key');
  assert.equal(recovered.tenantId, creds.tenantId);
  assert.notEqual(recovered.adminApiKey, creds.adminApiKey);
  assert.equal(recovered.adminPassword, undefined, 'the existing admin user is not recreated');
  assert.match(recovered.note ?? '', /admin-users reset-password/);
  const withNewKey = await fetch(`${admin.url}/api/admin/status`, { headers: { authorization: `Bearer ${recovered.adminApiKey}` } });
  assert.equal(withNewKey.status, 200);
  assert.equal(await countTenants(), 1, 'still one tenant');
});

async function countTenants(): Promise<number> {
  const mongo = new MongoClient(ns.env.ALMANAC_MONGO_URL, { serverSelectionTimeoutMS: 3000 });
  try {
    await mongo.connect();
    return await mongo.db(ns.name).collection('tenants').countDocuments({});
  } finally {
    await mongo.close();
  }
}
