/**
 * The rollup store's Cassandra schema, created by versioned migrations run at start.
 *
 * The keyspace is created first (it holds the migrations table, so it is not itself a migration);
 * `schema_migrations` records each applied version. A migration's statements are idempotent
 * (IF NOT EXISTS), so a start that dies half-way, or two nodes starting at once, simply apply
 * them again. Schema changes from several nodes at the same instant can still make Cassandra
 * report a schema disagreement for a few seconds: start one node first when upgrading.
 *
 * Data layout (why each table is shaped so):
 * - rollup_totals ((tracking_id, granularity, period), bucket_start): one site's buckets of one
 *   granularity and period per partition. The period is the UTC day for minute and hour buckets
 *   (1440 / 24 rows) and the UTC month for day buckets (so a year of day buckets is 12 partitions,
 *   not 365). Counters are bigint columns, not Cassandra counters (which are not idempotent),
 *   so a replayed write is harmless. revenue is a frozen map: overwritten as one cell, no
 *   collection tombstones. `has_breakdowns` saves a read for minute buckets (totals only).
 * - rollup_breakdowns ((tracking_id, granularity, period), dimension, bucket_start): ONE row per
 *   bucket and dimension whose `rows` blob holds that dimension's top-K values (see
 *   rollup-codec.ts). A new bucket version overwrites all 12 rows (empty blobs included), so
 *   values that left the top-K disappear without any range delete, i.e. without tombstones piling
 *   up in the hot partition of the current day, and a bucket is 13 statements in a commit instead
 *   of up to 1 + 12 × (K + 1). Reading one dimension over a range is one slice per period.
 * - sessions ((tracking_id, visitor_id)), seen_events ((tracking_id, event_id)): point reads by
 *   key. seen_events rows carry a TTL of the dedup window. A sessions row is one visitor: its
 *   latest visit in columns, the earlier ones late events may join in `earlier` (JSON).
 * - checkpoints ((partition)): next offset per log partition, the write timestamp of the last
 *   commit (commits of a partition use increasing timestamps, see the store), and the marker
 *   of a commit that is decided but maybe not yet applied (pending_ts, pending_chunks), and the
 *   owner epoch (fencing). Written only by lightweight transactions (compare-and-set).
 * - pending_commits ((partition), commit_ts, chunk): the payload of such a commit.
 * - expiry_index ((kind, hour), partition, write_ts) + expiry_hours ((kind), hour): which
 *   sessions (by end hour) and seen IDs (by hour of `at`) a commit wrote, one row per commit and
 *   hour, so prune() reads only the hours it expires instead of scanning whole tables.
 */
import type cassandra from 'cassandra-driver';

export interface Migration {
  version: number;
  name: string;
  /** CQL with `{ks}` for the keyspace. */
  statements: string[];
}

const COUNTERS = `pageviews bigint, events bigint, visits bigint, bounces bigint, duration_ms bigint, conversions bigint,
    revenue frozen<map<text, bigint>>, visitors blob`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'rollups, sessions, seen IDs, checkpoints, pending commits, expiry index',
    statements: [
      `CREATE TABLE IF NOT EXISTS {ks}.rollup_totals (
        tracking_id text, granularity text, period bigint, bucket_start bigint,
        logic_version int, has_breakdowns boolean, ${COUNTERS},
        PRIMARY KEY ((tracking_id, granularity, period), bucket_start)
      ) WITH CLUSTERING ORDER BY (bucket_start ASC)`,
      `CREATE TABLE IF NOT EXISTS {ks}.rollup_breakdowns (
        tracking_id text, granularity text, period bigint, dimension text, bucket_start bigint,
        rows blob,
        PRIMARY KEY ((tracking_id, granularity, period), dimension, bucket_start)
      ) WITH CLUSTERING ORDER BY (dimension ASC, bucket_start ASC)`,
      `CREATE TABLE IF NOT EXISTS {ks}.sessions (
        tracking_id text, visitor_id text, start_ts bigint, end_ts bigint,
        first_event_id text, last_event_id text, entry_page text, exit_page text,
        pageviews bigint, events bigint, source text, utm_source text, utm_medium text, utm_campaign text,
        country text, device text, browser text, os text,
        PRIMARY KEY ((tracking_id, visitor_id))
      )`,
      `CREATE TABLE IF NOT EXISTS {ks}.seen_events (
        tracking_id text, event_id text, at bigint,
        PRIMARY KEY ((tracking_id, event_id))
      )`,
      `CREATE TABLE IF NOT EXISTS {ks}.checkpoints (
        partition int PRIMARY KEY, next_offset bigint, write_ts bigint,
        pending_ts bigint, pending_chunks int, updated_at timestamp
      )`,
      // Rows here live for seconds; a day of gc grace is plenty (they are never repaired-critical).
      `CREATE TABLE IF NOT EXISTS {ks}.pending_commits (
        partition int, commit_ts bigint, chunk int, payload blob,
        PRIMARY KEY ((partition), commit_ts, chunk)
      ) WITH gc_grace_seconds = 86400`,
      `CREATE TABLE IF NOT EXISTS {ks}.expiry_index (
        kind text, hour bigint, partition int, write_ts bigint, items text,
        PRIMARY KEY ((kind, hour), partition, write_ts)
      ) WITH gc_grace_seconds = 86400`,
      `CREATE TABLE IF NOT EXISTS {ks}.expiry_hours (
        kind text, hour bigint,
        PRIMARY KEY ((kind), hour)
      ) WITH CLUSTERING ORDER BY (hour ASC) AND gc_grace_seconds = 86400`,
    ],
  },
  {
    version: 2,
    name: 'partition owner epochs (fencing of aggregator commits)',
    statements: [`ALTER TABLE {ks}.checkpoints ADD owner_epoch bigint`],
  },
  {
    // Every visit a late event can still join, not only the latest (appliance/storage/visit-history.ts).
    version: 3,
    name: 'earlier visits of each visitor',
    statements: [`ALTER TABLE {ks}.sessions ADD earlier text`],
  },
];

/** A column or table a re-run migration (crash before it was recorded) already added. */
const ALREADY_APPLIED = /already exists|conflicts with an existing column/i;

export interface MigrateOptions {
  keyspace: string;
  /** CQL replication map. Default SimpleStrategy, replication_factor 1. */
  replication?: Record<string, string | number>;
  log?: (message: string) => void;
}

export interface MigrateResult {
  /** Versions applied by this run (empty when the schema was current). */
  applied: number[];
  /** The schema version after the run. */
  version: number;
}

export function assertKeyspaceName(keyspace: string): void {
  if (!/^[a-z][a-z0-9_]{0,47}$/.test(keyspace)) {
    throw new Error(`Cassandra keyspace must be lower-case letters, digits and _ (at most 48, starting with a letter), got "${keyspace}"`);
  }
}

export async function migrate(client: cassandra.Client, options: MigrateOptions): Promise<MigrateResult> {
  const ks = options.keyspace;
  assertKeyspaceName(ks);
  const replication = options.replication ?? { class: 'SimpleStrategy', replication_factor: 1 };
  const map = Object.entries(replication).map(([k, v]) => `'${k.replace(/'/g, "''")}': '${String(v).replace(/'/g, "''")}'`).join(', ');
  await client.execute(`CREATE KEYSPACE IF NOT EXISTS ${ks} WITH replication = {${map}}`, [], { prepare: false });
  await client.execute(
    `CREATE TABLE IF NOT EXISTS ${ks}.schema_migrations (version int PRIMARY KEY, name text, applied_at timestamp)`,
    [], { prepare: false },
  );
  const rows = (await client.execute(`SELECT version FROM ${ks}.schema_migrations`, [], { prepare: false })).rows;
  const done = new Set(rows.map((r) => r.version as number));
  const applied: number[] = [];
  for (const m of [...MIGRATIONS].sort((a, b) => a.version - b.version)) {
    if (done.has(m.version)) continue;
    options.log?.(`cassandra: applying migration ${m.version} (${m.name}) to keyspace ${ks}`);
    for (const statement of m.statements) {
      await client.execute(statement.replaceAll('{ks}', ks), [], { prepare: false }).catch((err: Error) => {
        if (!ALREADY_APPLIED.test(err.message)) throw err;
      });
    }
    await client.execute(
      `INSERT INTO ${ks}.schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
      [m.version, m.name, new Date()], { prepare: true },
    );
    applied.push(m.version);
  }
  return { applied, version: Math.max(0, ...MIGRATIONS.map((m) => m.version)) };
}
