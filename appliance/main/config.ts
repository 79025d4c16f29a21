/**
 * The appliance's one typed configuration. Read once from an injectable `env` (ALMANAC_* variables)
 * and command-line flags, validated at start-up, frozen, and passed down to each role as a slice.
 * A wrong setting stops start-up with a message that names the variable and what it accepts.
 */
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../core/errors.ts';

export const ROLES = ['collector', 'archiver', 'aggregator', 'query', 'admin'] as const;
export type Role = (typeof ROLES)[number];
export type Profile = 'embedded' | 'cluster';

export interface AlmanacConfig {
  profile: Profile;
  /** Folder for the SQLite file, credentials.json and other state. */
  dataDir: string;
  host: string;
  port: number;
  /** URL that browsers use to reach the collector; printed in the snippet. */
  publicUrl: string;
  roles: readonly Role[];
  /** Event log partitions. One partition owns all events of a tracking ID. */
  partitions: number;
  collector: {
    trustProxy: boolean;
    maxEventAgeHours: number; // 72 h
    maxBodyBytes: number; // 1 MiB
  };
  pipeline: {
    sessionTimeoutMs: number; // 30 min
    topK: number; // 100 values per dimension and bucket
    /** Events per aggregator batch (one atomic rollup commit). */
    batchSize: number; // 5000
    /** Client duplicates (same eventId) are counted once within this window. */
    dedupWindowHours: number; // 48 h
    logRetentionHours: number; // 168 h
    /** Embedded profile: run archiver and aggregator in a worker thread, on a second core. */
    thread: boolean;
    /** Pause between two replay chunks (one site-day each), ms; lets live batches through on a busy node. */
    replayPauseMs: number; // 0
  };
  query: {
    openRangeTtlMs: number; // 5 s
    closedRangeTtlMs: number; // 10 min
  };
  /** The explore path (filters on every dimension): DuckDB engine, segments, tail. docs/design/explore.md. */
  explore: {
    /** Off: filtered queries and the v2 API answer 400 explore_disabled; the rollups keep answering. */
    enabled: boolean;
    threads: number; // 2
    /** The query engine's DuckDB memory_limit, MiB (one limit, tail included). */
    memoryMb: number; // 25 % of RAM, at most 6 GiB
    /** The segment writer's private DuckDB instance, MiB. */
    writerMemoryMb: number; // 1 GiB
    /** Most a query may spill to disk, MiB. */
    tempMb: number; // 8 GiB
    concurrency: number; // 2 statements at once
    queueDepth: number; // 32 waiting
    /** A query running past this is cancelled with 503 query_timeout. */
    timeoutMs: number; // 10 s
    /** Cluster: the query node's local cache of segment files, MiB. */
    cacheMb: number; // 8 GiB
    /** A day with more events is written as several parts (split on hours). */
    segmentMaxRows: number; // 2,000,000
    /** A dirty (late events, replay) day is rebuilt at most this often. */
    rebuildEveryMs: number; // 10 min
    /** The open part of today is re-read from the event log at most this often per site. */
    tailRefreshMs: number; // 5 s
    /** Most raw events the tail keeps in memory (all sites); beyond it, answers say explore_behind. */
    tailMaxEvents: number; // 2,000,000
    /** Per-tenant explore queries per second and burst. */
    queryRate: number; // 5/s
    queryBurst: number; // 20
  };
  node: {
    /** Stable name of this appliance node in the registry (desired scale, node reports). */
    id: string;
    /**
     * Cluster profile: run as a supervisor that keeps worker processes at the desired counts in the
     * registry (default when ALMANAC_ROLES is not given). Off: this process runs its roles itself.
     */
    supervise: boolean;
    /** Set on the worker processes a supervisor starts: they leave the node report to it. */
    workerOf?: string;
    reconcileIntervalMs: number; // 1.5 s
    /** A crashed worker waits backoffInitialMs, doubled per crash in a row, at most backoffMaxMs. */
    backoffInitialMs: number; // 1 s
    backoffMaxMs: number; // 30 s
    /** A worker stopped by scaling down gets this long to finish its batch before SIGKILL. */
    stopTimeoutMs: number; // 30 s
  };
  cluster: {
    /** Names the Kafka topic (<ns>.events), the Cassandra keyspace (<ns>) and the Redis key prefix (<ns>:). */
    namespace: string;
    kafkaBrokers: string[];
    /** Kafka consumer group session timeout: how long a member that died silently keeps its partitions. */
    kafkaSessionTimeoutMs: number; // 30 s
    mongoUrl: string;
    cassandraContactPoints: string[];
    cassandraDatacenter: string;
    redisUrl: string;
  };
}

type Env = Record<string, string | undefined>;

/** Flags map onto the same variables: --port 8080 is ALMANAC_PORT=8080, --data-dir is ALMANAC_DATA_DIR. */
export function flagsToEnv(argv: readonly string[]): { env: Env; rest: string[] } {
  const env: Env = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const m = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/.exec(arg);
    if (!m) { rest.push(arg); continue; }
    const name = 'ALMANAC_' + m[1].toUpperCase().replace(/-/g, '_');
    let value = m[2];
    if (value === undefined) {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) { value = next; i++; } else value = 'true';
    }
    env[name] = value;
  }
  return { env, rest };
}

export function loadConfig(env: Env, cwd = process.cwd()): Readonly<AlmanacConfig> {
  const problems: string[] = [];
  const read = new Reader(env, problems);

  const profile = read.oneOf('ALMANAC_PROFILE', ['embedded', 'cluster'] as const, 'embedded');
  const port = read.int('ALMANAC_PORT', 8420, 0, 65535);
  const host = read.string('ALMANAC_HOST', '127.0.0.1');
  const dataDir = path.resolve(cwd, read.string('ALMANAC_DATA_DIR', '.data'));
  const publicHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  const publicUrl = read.url('ALMANAC_PUBLIC_URL', `http://${publicHost}:${port}`);
  const roles = read.list('ALMANAC_ROLES', ROLES as unknown as string[], [...ROLES]) as Role[];
  const partitions = read.int('ALMANAC_PARTITIONS', profile === 'embedded' ? 4 : 6, 1, 1024);

  const config: AlmanacConfig = {
    profile, dataDir, host, port, publicUrl, roles, partitions,
    collector: {
      trustProxy: read.bool('ALMANAC_TRUST_PROXY', false),
      maxEventAgeHours: read.int('ALMANAC_MAX_EVENT_AGE_HOURS', 72, 1, 24 * 365),
      maxBodyBytes: read.int('ALMANAC_MAX_BODY_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    },
    pipeline: {
      sessionTimeoutMs: read.int('ALMANAC_SESSION_TIMEOUT_MINUTES', 30, 1, 24 * 60) * 60_000,
      topK: read.int('ALMANAC_TOP_K', 100, 1, 10_000),
      batchSize: read.int('ALMANAC_AGGREGATOR_BATCH', 5000, 1, 100_000),
      dedupWindowHours: read.int('ALMANAC_DEDUP_WINDOW_HOURS', 48, 24, 24 * 30),
      logRetentionHours: read.int('ALMANAC_LOG_RETENTION_HOURS', 168, 1, 24 * 365),
      thread: read.bool('ALMANAC_PIPELINE_THREAD', true),
      replayPauseMs: read.int('ALMANAC_REPLAY_PAUSE_MS', 0, 0, 3_600_000),
    },
    query: {
      openRangeTtlMs: read.int('ALMANAC_CACHE_OPEN_TTL_MS', 5_000, 0, 3_600_000),
      closedRangeTtlMs: read.int('ALMANAC_CACHE_CLOSED_TTL_MS', 600_000, 0, 86_400_000),
    },
    explore: {
      enabled: read.bool('ALMANAC_EXPLORE', true),
      threads: read.int('ALMANAC_EXPLORE_THREADS', Math.min(2, os.availableParallelism()), 1, 2 * os.availableParallelism()),
      memoryMb: read.int('ALMANAC_EXPLORE_MEMORY_MB', defaultExploreMemoryMb(), 256, Math.floor((0.75 * os.totalmem()) / MIB)),
      writerMemoryMb: read.int('ALMANAC_EXPLORE_WRITER_MEMORY_MB', 1024, 128, 8192),
      tempMb: read.int('ALMANAC_EXPLORE_TEMP_MB', 8192, 0, 1_048_576),
      concurrency: read.int('ALMANAC_EXPLORE_CONCURRENCY', 2, 1, 64),
      queueDepth: read.int('ALMANAC_EXPLORE_QUEUE', 32, 1, 1024),
      timeoutMs: read.int('ALMANAC_EXPLORE_TIMEOUT_MS', 10_000, 100, 120_000),
      cacheMb: read.int('ALMANAC_EXPLORE_CACHE_MB', 8192, 256, 1_048_576),
      segmentMaxRows: read.int('ALMANAC_EXPLORE_SEGMENT_MAX_ROWS', 2_000_000, 10_000, 50_000_000),
      rebuildEveryMs: read.int('ALMANAC_EXPLORE_REBUILD_EVERY_MS', 600_000, 1_000, 86_400_000),
      tailRefreshMs: read.int('ALMANAC_EXPLORE_TAIL_REFRESH_MS', 5_000, 0, 60_000),
      tailMaxEvents: read.int('ALMANAC_EXPLORE_TAIL_MAX_EVENTS', 2_000_000, 1_000, 100_000_000),
      queryRate: read.int('ALMANAC_EXPLORE_QUERY_RATE', 5, 1, 10_000),
      queryBurst: read.int('ALMANAC_EXPLORE_QUERY_BURST', 20, 1, 100_000),
    },
    node: {
      id: read.pattern('ALMANAC_NODE_ID', /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'letters, digits, ".", "_" and "-" (at most 100)', `${os.hostname()}-${port}`),
      supervise: read.bool('ALMANAC_SUPERVISE', profile === 'cluster' && read.absent('ALMANAC_ROLES')),
      ...(env.ALMANAC_WORKER_OF ? { workerOf: env.ALMANAC_WORKER_OF } : {}),
      reconcileIntervalMs: read.int('ALMANAC_RECONCILE_INTERVAL_MS', 1_500, 100, 60_000),
      backoffInitialMs: read.int('ALMANAC_WORKER_BACKOFF_INITIAL_MS', 1_000, 10, 600_000),
      backoffMaxMs: read.int('ALMANAC_WORKER_BACKOFF_MAX_MS', 30_000, 10, 3_600_000),
      stopTimeoutMs: read.int('ALMANAC_WORKER_STOP_TIMEOUT_MS', 30_000, 1_000, 600_000),
    },
    cluster: {
      namespace: read.pattern('ALMANAC_NAMESPACE', /^[a-z][a-z0-9_]{0,39}$/, 'lower-case letters, digits and _, starting with a letter (at most 40)', 'almanac'),
      kafkaBrokers: read.list('ALMANAC_KAFKA_BROKERS', null, ['127.0.0.1:19092']),
      // Kafka brokers accept 6 s–30 min by default (group.min/max.session.timeout.ms).
      kafkaSessionTimeoutMs: read.int('ALMANAC_KAFKA_SESSION_TIMEOUT_MS', 30_000, 6_000, 1_800_000),
      mongoUrl: read.string('ALMANAC_MONGO_URL', 'mongodb://127.0.0.1:27018/almanac'),
      cassandraContactPoints: read.list('ALMANAC_CASSANDRA_CONTACT_POINTS', null, ['127.0.0.1:19042']),
      cassandraDatacenter: read.string('ALMANAC_CASSANDRA_DATACENTER', 'datacenter1'),
      redisUrl: read.string('ALMANAC_REDIS_URL', 'redis://127.0.0.1:16379'),
    },
  };
  if (profile === 'cluster' && !config.cluster.mongoUrl.startsWith('mongodb')) {
    problems.push(`ALMANAC_MONGO_URL must be a mongodb:// URL, got "${config.cluster.mongoUrl}"`);
  }
  if (config.node.backoffMaxMs < config.node.backoffInitialMs) {
    problems.push(`ALMANAC_WORKER_BACKOFF_MAX_MS (${config.node.backoffMaxMs}) must be at least ALMANAC_WORKER_BACKOFF_INITIAL_MS (${config.node.backoffInitialMs})`);
  }
  if (config.node.supervise && profile !== 'cluster') {
    problems.push('ALMANAC_SUPERVISE=true needs ALMANAC_PROFILE=cluster: the embedded profile runs every role in one process (one SQLite file)');
  }
  if (config.explore.enabled && config.explore.memoryMb + config.explore.writerMemoryMb > (0.75 * os.totalmem()) / MIB) {
    problems.push(`ALMANAC_EXPLORE_MEMORY_MB (${config.explore.memoryMb}) plus ALMANAC_EXPLORE_WRITER_MEMORY_MB (${config.explore.writerMemoryMb}) must stay under 75 % of this machine's memory (${Math.floor((0.75 * os.totalmem()) / MIB)} MiB)`);
  }
  if (config.explore.enabled && config.pipeline.logRetentionHours < 72) {
    problems.push(`ALMANAC_LOG_RETENTION_HOURS (${config.pipeline.logRetentionHours}) must be at least 72 while ALMANAC_EXPLORE is on: the open days are read back from the event log`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

const MIB = 1024 * 1024;

/** A quarter of the machine's memory, at most 6 GiB, at least 256 MiB. */
function defaultExploreMemoryMb(): number {
  return Math.max(256, Math.min(6144, Math.floor(os.totalmem() / 4 / MIB)));
}

class Reader {
  constructor(private readonly env: Env, private readonly problems: string[]) {}

  private raw(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  }

  absent(name: string): boolean {
    return this.raw(name) === undefined;
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      this.problems.push(`${name} must be a whole number from ${min} to ${max}, got "${v}"`);
      return fallback;
    }
    return n;
  }

  pattern(name: string, re: RegExp, what: string, fallback: string): string {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if (re.test(v)) return v;
    this.problems.push(`${name} must be ${what}, got "${v}"`);
    return fallback;
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if (/^(1|true|yes|on)$/i.test(v)) return true;
    if (/^(0|false|no|off)$/i.test(v)) return false;
    this.problems.push(`${name} must be true or false, got "${v}"`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if ((allowed as readonly string[]).includes(v)) return v as T;
    this.problems.push(`${name} must be one of ${allowed.join(', ')}, got "${v}"`);
    return fallback;
  }

  url(name: string, fallback: string): string {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    try {
      const u = new URL(v);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('protocol');
      return v.replace(/\/+$/, '');
    } catch {
      this.problems.push(`${name} must be an http(s) URL such as https://analytics.example.com, got "${v}"`);
      return fallback;
    }
  }

  /** Comma-separated list; `allowed` null means any non-empty items. */
  list(name: string, allowed: string[] | null, fallback: string[]): string[] {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    const items = v.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = allowed ? items.filter((i) => !allowed.includes(i)) : [];
    if (items.length === 0 || bad.length > 0) {
      this.problems.push(`${name} must be a comma-separated list${allowed ? ` of ${allowed.join(', ')}` : ''}, got "${v}"`);
      return fallback;
    }
    return items;
  }
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
