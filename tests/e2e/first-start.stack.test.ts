/**
 * The bug: the cluster profile on a fresh clone. `almanac start --profile cluster` with no data
 * folder died with ENOENT .data/credentials.json after it had made the first tenant, admin key and
 * admin user in MongoDB; the next start found the tenant and never wrote them. Now: the first
 * start writes credentials.json, a second changes nothing, and a start that finds the tenant
 * without its credentials says how to get a key.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freshNamespace, type Namespace } from '../support/cluster.ts';

const stackUp = Boolean(process.env.ALMANAC_KAFKA_BROKERS && process.env.ALMANAC_MONGO_URL && process.env.ALMANAC_CASSANDRA_CONTACT_POINTS && process.env.ALMANAC_REDIS_URL);
const bin = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../appliance/bin/almanac.mjs');

let ns: Namespace | undefined;
const work = mkdtempSync(path.join(os.tmpdir(), 'almanac-clone-'));
after(async () => {
  await ns?.drop();
  rmSync(work, { recursive: true, force: true });
});

/** `almanac start` as a supervised node until its banner is out (or it exits); then SIGTERM. */
async function startOnce(env: Record<string, string>): Promise<{ out: string; code: number | null }> {
  const child = spawn(process.execPath, [bin, 'start'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const until = Date.now() + 90_000;
  while (!/credentials of the first tenant|No admin API key/.test(out) && child.exitCode === null && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 200));
  }
  if (child.exitCode === null) child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await exited;
  clearTimeout(timer);
  return { out, code };
}

test('a fresh clone: the first cluster start makes the data folder and credentials.json, a second changes nothing, a lost file gets a hint', { skip: !stackUp }, async () => {
  ns = freshNamespace('clone');
  const dataDir = path.join(work, 'clone', '.data');
  const env = { ...ns.env, ALMANAC_DATA_DIR: dataDir, ALMANAC_PORT: String(21000 + Math.floor(Math.random() * 20000)) };
  delete (env as Record<string, string | undefined>).ALMANAC_ROLES;

  const first = await startOnce(env);
  const file = path.join(dataDir, 'credentials.json');
  assert.ok(existsSync(file), first.out);
  assert.doesNotMatch(first.out, /ENOENT/);
  assert.match(first.out, /\(created now\)/);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  assert.ok(saved.adminApiKey && saved.adminPassword && saved.tenantId);

  const second = await startOnce(env);
  assert.doesNotMatch(second.out, /created now|No admin API key/, second.out);
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), saved);

  unlinkSync(file);
  const third = await startOnce(env);
  assert.match(third.out, new RegExp(`almanac api-keys create --tenant ${saved.tenantId} --admin`), third.out);
  assert.match(third.out, /almanac admin-users reset-password admin/);
});
