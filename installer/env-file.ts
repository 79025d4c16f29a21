/**
 * The `.env` beside the compose file: the one place the installation's settings and secrets
 * live. compose reads it to fill the `${VAR}` references; later installer commands (upgrade,
 * backup, status) read it back, so it is the record of what was installed. Secrets already in an
 * existing `.env` are kept, which makes `generate` idempotent and never rotates a password that
 * the stores were initialised with.
 */
import { randomBytes } from 'node:crypto';
import { SIZING, type ProfileName } from './sizing.ts';
import type { Docstore } from './compose.ts';

export interface InstallSettings {
  profile: ProfileName;
  docstore: Docstore;
  httpPort: number;
  publicUrl: string;
  image: string;
  version: string;
  projectName: string;
}

/** Generated once per installation and never changed afterwards. */
export const SECRET_KEYS = ['ALMANAC_REDIS_PASSWORD', 'ALMANAC_MONGO_PASSWORD'] as const;
/** Generated once too, but not secret: Kafka refuses to start on a log dir of another cluster ID. */
const STABLE_KEYS = ['ALMANAC_KAFKA_CLUSTER_ID'] as const;

/** 256 bits from the OS CSPRNG, URL-safe (the passwords go into mongodb:// and redis:// URLs). */
export function generateSecret(random: (n: number) => Buffer = randomBytes): string {
  return random(32).toString('base64url');
}

export function generateKafkaClusterId(random: (n: number) => Buffer = randomBytes): string {
  return random(16).toString('base64url'); // 22 characters, the form kafka-storage random-uuid prints
}

export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m || line.trimStart().startsWith('#')) continue;
    let v = m[2];
    if (/^'.*'$/.test(v) || /^".*"$/.test(v)) v = v.slice(1, -1);
    out[m[1]] = v;
  }
  return out;
}

/** Reads the installation's settings back from its `.env`. */
export function settingsFromEnv(env: Record<string, string>): InstallSettings {
  const missing = ['COMPOSE_PROFILES', 'ALMANAC_DOCSTORE', 'ALMANAC_IMAGE', 'ALMANAC_VERSION'].filter((k) => !env[k]);
  if (missing.length) throw new Error(`.env lacks ${missing.join(', ')}: it was not written by almanac-install generate`);
  return {
    profile: env.COMPOSE_PROFILES as ProfileName,
    docstore: env.ALMANAC_DOCSTORE as Docstore,
    httpPort: Number(env.ALMANAC_HTTP_PORT ?? 8080),
    publicUrl: env.ALMANAC_PUBLIC_URL ?? '',
    image: env.ALMANAC_IMAGE,
    version: env.ALMANAC_VERSION,
    projectName: env.COMPOSE_PROJECT_NAME ?? 'almanac',
  };
}

/** The secrets and stable IDs to write: those already in `existing`, new ones for the rest. */
export function resolveSecrets(existing: Record<string, string>, docstore: Docstore, random?: (n: number) => Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of SECRET_KEYS) {
    if (key === 'ALMANAC_MONGO_PASSWORD' && docstore !== 'mongodb' && !existing[key]) continue;
    out[key] = existing[key] || generateSecret(random);
  }
  for (const key of STABLE_KEYS) out[key] = existing[key] || generateKafkaClusterId(random);
  return out;
}

export function renderEnvFile(s: InstallSettings, secrets: Record<string, string>): string {
  const z = SIZING[s.profile];
  const sections: [string, Record<string, string | number>][] = [
    ['Installation (almanac-install generate)', {
      COMPOSE_PROJECT_NAME: s.projectName,
      COMPOSE_PROFILES: s.profile,
      ALMANAC_DOCSTORE: s.docstore,
      ALMANAC_IMAGE: s.image,
      ALMANAC_VERSION: s.version,
      ALMANAC_HTTP_PORT: s.httpPort,
      ALMANAC_PUBLIC_URL: s.publicUrl,
      ALMANAC_PARTITIONS: z.partitions,
    }],
    [`Sizing: the ${s.profile} layout (installer/sizing.ts)`, {
      ALMANAC_MEM_KAFKA: z.memory.kafka,
      ALMANAC_MEM_CASSANDRA: z.memory.cassandra,
      ALMANAC_MEM_DOCSTORE: z.memory.docstore,
      ALMANAC_MEM_REDIS: z.memory.redis,
      ALMANAC_MEM_LB: z.memory.lb,
      ALMANAC_MEM_ALMANAC: z.memory.almanac,
      ALMANAC_MEM_COLLECTOR: z.memory.collector,
      ALMANAC_MEM_PIPELINE: z.memory.pipeline,
      ALMANAC_MEM_QUERY: z.memory.query,
      ALMANAC_MEM_ADMIN: z.memory.admin,
      ALMANAC_REPLICAS_COLLECTOR: z.replicas.collector,
      ALMANAC_REPLICAS_PIPELINE: z.replicas.pipeline,
      ALMANAC_REPLICAS_QUERY: z.replicas.query,
      ALMANAC_KAFKA_HEAP: z.kafkaHeap,
      ALMANAC_CASSANDRA_HEAP: z.cassandraHeap,
      ALMANAC_CASSANDRA_NEWGEN: z.cassandraNewGen,
      ALMANAC_REDIS_MAXMEMORY: z.redisMaxMemory,
    }],
    ['Generated secrets: keep this file private (mode 600) and in your backups', secrets],
  ];
  const lines = ['# Almanac appliance settings, read by docker compose and almanac-install.'];
  for (const [title, vars] of sections) {
    lines.push('', `# ${title}`);
    for (const [k, v] of Object.entries(vars)) {
      const value = String(v);
      if (/[\s#'"$\\]/.test(value)) throw new Error(`${k} contains a character .env cannot hold unquoted: "${value}"`);
      lines.push(`${k}=${value}`);
    }
  }
  return lines.join('\n') + '\n';
}
