/**
 * The installer's plans and the executor, without Docker: generate writes the files (secrets
 * strong, mode 600) and a second run changes nothing; a dry run prints every command and touches
 * nothing; upgrade restarts service by service and rolls back when one stays unhealthy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FILES, planBackup, planGenerate, planInstall, planRestore, planUninstall, planUpgrade, type Plan, type Step } from './plan.ts';
import { runPlan, shellLine, type ExecutorDeps, type RunResult } from './executor.ts';
import { parseEnvFile, renderEnvFile, resolveSecrets, type InstallSettings } from './env-file.ts';
import { ALMANAC_SERVICES } from './compose.ts';

const settings = (over: Partial<InstallSettings> = {}): InstallSettings => ({
  profile: 'small', docstore: 'ferretdb', httpPort: 8080, publicUrl: 'https://analytics.example.com',
  image: 'ghcr.io/almanac-analytics/almanac', version: '0.1.0', projectName: 'almanac', ...over,
});

const tmp = () => path.join(mkdtempSync(path.join(os.tmpdir(), 'almanac-install-')), 'opt-almanac');

/** A machine with a fake `docker`: records each command; `ps` answers from `health`. */
function fakeMachine(health: (service: string, calls: string[][]) => string = () => 'healthy') {
  const calls: string[][] = [];
  const lines: string[] = [];
  let clock = 0;
  const deps: ExecutorDeps = {
    log: (l) => lines.push(l),
    now: () => clock,
    sleep: async (ms) => { clock += ms; },
    fetchOk: async () => true,
    async run(argv): Promise<RunResult> {
      calls.push(argv);
      const ps = argv.indexOf('ps');
      if (argv[0] === 'docker' && ps > 0 && argv.includes('json')) {
        const services = argv.slice(argv.indexOf('json') + 1);
        return { code: 0, stdout: services.map((s) => JSON.stringify({ Service: s, State: 'running', Health: health(s, calls), ExitCode: 0 })).join('\n'), stderr: '' };
      }
      return { code: 0, stdout: '', stderr: '' };
    },
  };
  return { deps, calls, lines };
}

const runSteps = (plan: Plan) => plan.steps.filter((s): s is Extract<Step, { kind: 'run' }> => s.kind === 'run');

test('generate writes compose.yaml, haproxy.cfg and .env (mode 600) with strong secrets; a second run changes nothing', async () => {
  const dir = tmp();
  const { deps } = fakeMachine();
  const first = await runPlan(planGenerate(settings(), dir, {}), deps, { dryRun: false });
  assert.equal(first.ok, true);
  assert.equal(first.changed, 5);
  const envPath = path.join(dir, FILES.env);
  assert.equal(statSync(envPath).mode & 0o777, 0o600);
  assert.equal(statSync(path.join(dir, FILES.backups)).mode & 0o777, 0o700);
  const env = parseEnvFile(readFileSync(envPath, 'utf8'));
  // 32 random bytes, base64url: 43 characters, safe inside mongodb:// and redis:// URLs.
  assert.match(env.ALMANAC_REDIS_PASSWORD, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(env.ALMANAC_MONGO_PASSWORD, undefined, 'FerretDB has no password to set');
  assert.equal(env.COMPOSE_PROFILES, 'small');
  for (const f of [FILES.compose, FILES.haproxy]) assert.ok(!readFileSync(path.join(dir, f), 'utf8').includes(env.ALMANAC_REDIS_PASSWORD), `${f} holds no secret`);

  const before = [FILES.compose, FILES.haproxy, FILES.env].map((f) => [readFileSync(path.join(dir, f), 'utf8'), statSync(path.join(dir, f)).mtimeMs]);
  const again = await runPlan(planGenerate(settings(), dir, env), deps, { dryRun: false });
  assert.equal(again.changed, 0, 'second run: nothing written');
  const after = [FILES.compose, FILES.haproxy, FILES.env].map((f) => [readFileSync(path.join(dir, f), 'utf8'), statSync(path.join(dir, f)).mtimeMs]);
  assert.deepEqual(after, before);
});

test('secrets: new ones differ each time and come from the CSPRNG; existing ones are kept; MongoDB gets a password', () => {
  const a = resolveSecrets({}, 'mongodb');
  const b = resolveSecrets({}, 'mongodb');
  assert.notEqual(a.ALMANAC_REDIS_PASSWORD, b.ALMANAC_REDIS_PASSWORD);
  assert.notEqual(a.ALMANAC_MONGO_PASSWORD, a.ALMANAC_REDIS_PASSWORD);
  assert.match(a.ALMANAC_MONGO_PASSWORD, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(Buffer.from(a.ALMANAC_MONGO_PASSWORD, 'base64url').length, 32);
  assert.match(a.ALMANAC_KAFKA_CLUSTER_ID, /^[A-Za-z0-9_-]{22}$/);
  assert.deepEqual(resolveSecrets(a, 'mongodb'), a, 'kept as they are');
  let asked = 0;
  resolveSecrets({}, 'ferretdb', (n) => { asked += n; return Buffer.alloc(n, 7); });
  assert.equal(asked, 32 + 16, 'one 32-byte password (Redis) and the 16-byte Kafka cluster ID');
  // A changed choice keeps the secrets the stores were initialised with.
  const env = parseEnvFile(renderEnvFile(settings({ profile: 'large' }), a));
  assert.equal(env.ALMANAC_REDIS_PASSWORD, a.ALMANAC_REDIS_PASSWORD);
  assert.equal(env.ALMANAC_REPLICAS_COLLECTOR, '3');
});

test('changing an input rewrites only what it affects', async () => {
  const dir = tmp();
  const { deps } = fakeMachine();
  await runPlan(planGenerate(settings(), dir, {}), deps, { dryRun: false });
  const env = parseEnvFile(readFileSync(path.join(dir, FILES.env), 'utf8'));
  const compose = readFileSync(path.join(dir, FILES.compose), 'utf8');
  const r = await runPlan(planGenerate(settings({ profile: 'large' }), dir, env), deps, { dryRun: false });
  assert.equal(r.changed, 1, 'only .env');
  assert.equal(readFileSync(path.join(dir, FILES.compose), 'utf8'), compose);
  assert.equal(parseEnvFile(readFileSync(path.join(dir, FILES.env), 'utf8')).ALMANAC_REDIS_PASSWORD, env.ALMANAC_REDIS_PASSWORD);
});

test('dry run: prints every command and file, shows no secret, and changes nothing on disk', async () => {
  const dir = tmp();
  const { deps, calls, lines } = fakeMachine();
  const plan = planInstall(settings(), dir, {}, { pull: true });
  const secret = (plan.steps.find((s) => s.kind === 'write' && s.path.endsWith(FILES.env)) as { content: string }).content;
  const r = await runPlan(plan, deps, { dryRun: true });
  assert.equal(r.ok, true);
  assert.equal(calls.length, 0, 'nothing run');
  assert.equal(existsSync(dir), false, 'nothing written');
  const printed = lines.join('\n');
  for (const step of runSteps(plan)) assert.ok(printed.includes(shellLine(step.argv)), `printed: ${shellLine(step.argv)}`);
  assert.match(printed, /\.env \(mode 600, \d+ bytes, holds secrets: content not shown\)/);
  const password = parseEnvFile(secret).ALMANAC_REDIS_PASSWORD;
  assert.ok(!printed.includes(password), 'no secret in the dry run');
});

test('install: stores first and healthy, then migrations, then Almanac, then health, then the first admin', () => {
  const plan = planInstall(settings({ profile: 'large' }), '/opt/almanac', {}, { pull: true });
  const order = plan.steps.map((s) => s.kind === 'run' ? s.argv.slice(s.argv.indexOf('--env-file') + 2).join(' ') : s.kind === 'wait-services' ? `wait ${s.services.join(',')}` : s.kind);
  const at = (re: RegExp) => order.findIndex((o) => re.test(o));
  assert.ok(at(/^pull/) < at(/^up --detach kafka docstore cassandra redis$/));
  assert.ok(at(/^up --detach kafka/) < at(/^wait kafka,docstore,cassandra,redis$/));
  assert.ok(at(/^wait kafka/) < at(/^run --rm --no-deps migrate$/));
  assert.ok(at(/^run --rm --no-deps migrate$/) < at(/^up --detach --remove-orphans$/));
  assert.ok(at(/^up --detach --remove-orphans$/) < at(/^wait pipeline,query,admin,collector,lb$/));
  assert.ok(at(/^wait pipeline/) < at(/^exec -T admin node installer\/bin\/almanac-task.mjs first-admin$/));
  const firstAdmin = runSteps(plan).find((s) => s.argv.includes('first-admin'))!;
  assert.equal(firstAdmin.stdoutTo, '/opt/almanac/credentials.json', 'the credentials go to a file, not the terminal');
  assert.equal(planInstall(settings(), '/opt/almanac', {}, { pull: false }).steps.some((s) => s.kind === 'run' && s.argv.includes('pull')), false);
});

test('upgrade plan: previous settings kept, pull, migrate, then one service at a time each waited for', () => {
  const current = renderEnvFile(settings({ profile: 'large' }), resolveSecrets({}, 'ferretdb'));
  const plan = planUpgrade(settings({ profile: 'large' }), '/opt/almanac', current, '0.2.0');
  const [saveOld, writeNew] = plan.steps;
  assert.deepEqual([saveOld.kind, (saveOld as { path: string }).path, (saveOld as { content: string }).content], ['write', '/opt/almanac/.env.previous', current]);
  const next = parseEnvFile((writeNew as { content: string }).content);
  assert.equal(next.ALMANAC_VERSION, '0.2.0');
  assert.equal(next.ALMANAC_REDIS_PASSWORD, parseEnvFile(current).ALMANAC_REDIS_PASSWORD);
  const tail = (s: Step) => s.kind === 'run' ? s.argv.slice(s.argv.indexOf('--env-file') + 2).join(' ') : s.kind === 'wait-services' ? `wait ${s.services.join(',')}` : s.kind;
  assert.deepEqual(plan.steps.slice(2, 4).map(tail), ['pull --quiet', 'run --rm --no-deps migrate']);
  const rolling = plan.steps.slice(4, 4 + 2 * ALMANAC_SERVICES.large.length).map(tail);
  assert.deepEqual(rolling, ALMANAC_SERVICES.large.flatMap((s) => [`up --detach --no-deps ${s}`, `wait ${s}`]));
  // Rollback: the previous .env back, every Almanac service restarted on it.
  const undo = plan.onFailure!;
  assert.deepEqual(undo.filter((s) => s.kind === 'write').map((s) => (s as { content: string }).content), [current]);
  assert.ok(undo.some((s) => tail(s) === `up --detach --no-deps ${ALMANAC_SERVICES.large.join(' ')}`));
});

test('upgrade executed: a service that stays unhealthy rolls every service back to the previous version', async () => {
  const dir = tmp();
  const boot = fakeMachine();
  await runPlan(planGenerate(settings({ profile: 'large' }), dir, {}), boot.deps, { dryRun: false });
  const envPath = path.join(dir, FILES.env);
  const before = readFileSync(envPath, 'utf8');
  // query stays unhealthy once it has been restarted on the new version.
  const { deps, calls, lines } = fakeMachine((service, seen) =>
    service === 'query' && seen.some((c) => c.join(' ').endsWith('up --detach --no-deps query')) && !seen.some((c) => c.join(' ').includes('--no-deps pipeline query')) ? 'unhealthy' : 'healthy');
  const r = await runPlan(planUpgrade(settings({ profile: 'large' }), dir, before, '0.2.0'), deps, { dryRun: false });
  assert.equal(r.ok, false);
  assert.match(r.error!, /query failed its health check/);
  assert.equal(readFileSync(envPath, 'utf8'), before, '.env back on 0.1.0');
  assert.equal(statSync(envPath).mode & 0o777, 0o600);
  assert.ok(calls.some((c) => c.join(' ').endsWith(`up --detach --no-deps ${ALMANAC_SERVICES.large.join(' ')}`)), 'every service restarted on the old version');
  assert.equal(calls.some((c) => c.join(' ').endsWith('up --detach --no-deps collector')), false, 'collectors were never touched');
  assert.ok(lines.some((l) => /Rolled back to 0\.1\.0/.test(l)));
});

test('a service that never becomes healthy times out with the command that shows its logs', async () => {
  const { deps } = fakeMachine(() => 'starting');
  const r = await runPlan({ title: 't', steps: [{ kind: 'wait-services', dir: '/opt/almanac', services: ['cassandra'], timeoutMs: 10_000 }] }, deps, { dryRun: false });
  assert.equal(r.ok, false);
  assert.match(r.error!, /cassandra not healthy after 10 s; see: docker compose .* logs --tail 100 cassandra/);
});

test('backup: mongodump, Cassandra snapshot out to a tar, settings; restore: migrate, mongorestore, nodetool import', () => {
  const s = settings();
  const backup = planBackup(s, '/opt/almanac', '20261127T120000Z', { offline: false });
  const text = runSteps(backup).map((r) => r.argv.join(' ')).join('\n');
  assert.match(text, /run --rm --no-deps -T tools sh -c mongodump .*--archive=\/backups\/20261127T120000Z\/docstore.archive.gz/);
  assert.match(text, /exec -T cassandra nodetool snapshot --tag 20261127T120000Z almanac/);
  assert.match(text, /exec -T cassandra nodetool clearsnapshot -t 20261127T120000Z -- almanac/);
  assert.equal(runSteps(backup).find((r) => r.argv.join(' ').includes('tar -cf'))!.stdoutTo, '/opt/almanac/backups/20261127T120000Z/cassandra-rollups.tar');
  assert.ok(runSteps(backup).some((r) => r.argv[0] === 'cp' && r.argv.includes('/opt/almanac/.env')));
  assert.equal(runSteps(backup).some((r) => r.argv.includes('stop')), false, 'online: nothing stopped');

  const offline = planBackup(s, '/opt/almanac', 'x', { offline: true });
  const packs = runSteps(offline).filter((r) => r.argv.includes('tar'));
  assert.deepEqual(packs.map((r) => r.argv[r.argv.indexOf('-v') + 1].split(':')[0]), ['almanac_kafka-data', 'almanac_docstore-data', 'almanac_cassandra-data', 'almanac_almanac-data']);
  const offlineOrder = runSteps(offline).map((r) => r.argv.at(-1));
  assert.equal(offlineOrder[0], 'stop');
  assert.equal(offlineOrder.at(-1), 'start');

  const restore = runSteps(planRestore(s, '/opt/almanac', '20261127T120000Z')).map((r) => r.argv.join(' '));
  const at = (re: RegExp) => restore.findIndex((l) => re.test(l));
  assert.ok(at(/ stop almanac$/) < at(/run --rm --no-deps migrate/));
  assert.ok(at(/migrate/) < at(/mongorestore .*--drop/));
  assert.ok(at(/mongorestore/) < at(/nodetool import almanac/));
  assert.ok(at(/nodetool import/) < at(/ up --detach$/));
});

test('uninstall keeps the data volumes unless --purge; purge keeps the backups', () => {
  const keep = planUninstall('/opt/almanac', { purge: false });
  assert.deepEqual(runSteps(keep).map((r) => r.argv.slice(-2).join(' ')), ['down --remove-orphans']);
  assert.equal(keep.steps.some((s) => s.kind === 'remove'), false);
  const purge = planUninstall('/opt/almanac', { purge: true });
  assert.ok(runSteps(purge)[0].argv.includes('--volumes'));
  const removed = purge.steps.filter((s) => s.kind === 'remove').map((s) => (s as { path: string }).path);
  assert.ok(removed.includes('/opt/almanac/.env'));
  assert.equal(removed.some((p) => p.includes(FILES.backups)), false);
});
