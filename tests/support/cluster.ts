/**
 * Cluster-profile test support: a namespace of its own per test (Kafka topic, Cassandra keyspace,
 * MongoDB database, Redis key prefix) on the native stack, and appliance roles as real processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import cassandra from 'cassandra-driver';
import { Kafka, logLevel } from 'kafkajs';
import type { Credentials } from '../../appliance/main/first-start.ts';
import { hookedAlmanac, type HookSettings } from './aggregator-hooks.ts';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

export function stackEnv(): Record<string, string> {
  const need = ['ALMANAC_KAFKA_BROKERS', 'ALMANAC_MONGO_URL', 'ALMANAC_CASSANDRA_CONTACT_POINTS', 'ALMANAC_REDIS_URL'];
  const missing = need.filter((n) => !process.env[n]);
  if (missing.length) throw new Error(`${missing.join(', ')} not set: start the services with \`npm run stack -- up\` and run the tests with \`npm test\``);
  return Object.fromEntries(need.map((n) => [n, process.env[n]!]));
}

export interface Namespace {
  name: string;
  env: Record<string, string>;
  /** Raw events of tracking IDs in this namespace's archive (MongoDB). */
  countArchived(trackingIds: string | string[]): Promise<number>;
  drop(): Promise<void>;
}

export function freshNamespace(prefix = 't'): Namespace {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const base = stackEnv();
  const mongoUrl = base.ALMANAC_MONGO_URL.replace(/\/[^/?]*(\?|$)/, `/${name}$1`).replace(/(mongodb:\/\/[^/]+)$/, `$1/${name}`);
  const env = { ...base, ALMANAC_PROFILE: 'cluster', ALMANAC_NAMESPACE: name, ALMANAC_MONGO_URL: mongoUrl };
  return {
    name,
    env,
    async countArchived(trackingIds) {
      const mongo = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 3000 });
      try {
        await mongo.connect();
        return await mongo.db(name).collection('raw_events').countDocuments({ trackingId: { $in: ([] as string[]).concat(trackingIds) } });
      } finally {
        await mongo.close();
      }
    },
    async drop() {
      const mongo = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 3000 });
      await mongo.connect().then(() => mongo.db(name).dropDatabase()).catch(() => {}).finally(() => mongo.close());
      const [host, port] = base.ALMANAC_CASSANDRA_CONTACT_POINTS.split(',')[0].split(':');
      const cql = new cassandra.Client({ contactPoints: [`${host}:${port}`], localDataCenter: 'datacenter1' });
      await cql.execute(`DROP KEYSPACE IF EXISTS ${name}`).catch(() => {}).finally(() => cql.shutdown());
      const admin = new Kafka({ brokers: base.ALMANAC_KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING }).admin();
      await admin.connect().then(() => admin.deleteTopics({ topics: [`${name}.events`] })).catch(() => {}).finally(() => admin.disconnect());
    },
  };
}

export interface RoleProcess {
  url: string;
  dataDir: string;
  child: ChildProcess;
  output(): string;
  credentials(): Credentials;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `almanac start` with the given roles as its own process and waits for /healthz; `hooks`: the aggregator's test hooks. */
export async function startRoleProcess(env: Record<string, string>, roles: string, timeoutMs = 60_000, opts: { hooks?: HookSettings } = {}): Promise<RoleProcess> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'almanac-role-'));
  const port = 21000 + Math.floor(Math.random() * 20000);
  const command = opts.hooks ? hookedAlmanac(opts.hooks) : [path.join(root, 'appliance/bin/almanac.mjs')];
  const child = spawn(process.execPath, [...command, 'start'], {
    env: { ...process.env, ...env, ALMANAC_ROLES: roles, ALMANAC_PORT: String(port), ALMANAC_DATA_DIR: dataDir, ALMANAC_TRUST_PROXY: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`almanac --roles ${roles} exited with ${child.exitCode ?? child.signalCode}:\n${out}`);
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`almanac --roles ${roles} not healthy after ${timeoutMs} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    dataDir,
    child,
    output: () => out,
    credentials: () => JSON.parse(readFileSync(path.join(dataDir, 'credentials.json'), 'utf8')) as Credentials,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(timer);
      rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}
