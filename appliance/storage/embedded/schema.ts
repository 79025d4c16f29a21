/**
 * The schema of the embedded data file, as an ordered list of migrations.
 * Never edit a released migration: add a new one (the file of an existing install has run it already).
 *
 * Naming: one table prefix per port (log_, archive_, rollup_, registry tables by their noun).
 * Tables whose rows are mostly read in key ranges are WITHOUT ROWID (clustered: one b-tree, no
 * second lookup per row), including the rollup tables despite their sketch BLOBs (measured faster
 * for readTotals). Event payload tables stay rowid tables with a secondary index: they are written
 * in arrival order (cheap appends to the rowid b-tree) and their key is random (event IDs).
 */
import type { Migration } from './migrate.ts';

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'event log, raw archive, rollups, registry',
    up(db) {
      db.exec(`
        -- Settings fixed at creation (e.g. the partition count), checked at every open.
        CREATE TABLE almanac_meta (
          key   TEXT PRIMARY KEY,
          value TEXT NOT NULL
        ) WITHOUT ROWID;

        -- ---------------------------------------------------------------- event log
        -- Next offset to write per partition. Kept apart from log_records so endOffsets stay right
        -- after trimming has deleted every record of a partition.
        CREATE TABLE log_partitions (
          partition   INTEGER PRIMARY KEY,
          next_offset INTEGER NOT NULL
        );
        CREATE TABLE log_records (
          partition   INTEGER NOT NULL,
          offset      INTEGER NOT NULL,
          appended_at INTEGER NOT NULL,
          payload     TEXT NOT NULL,
          PRIMARY KEY (partition, offset)
        );
        -- One row per (group, partition) from the group's first subscribe on, so trimming
        -- never deletes what a registered group has not read yet.
        CREATE TABLE log_group_offsets (
          group_name  TEXT NOT NULL,
          partition   INTEGER NOT NULL,
          next_offset INTEGER NOT NULL,
          updated_at  INTEGER NOT NULL,
          PRIMARY KEY (group_name, partition)
        ) WITHOUT ROWID;

        -- ---------------------------------------------------------------- raw archive
        CREATE TABLE archive_events (
          event_id    TEXT PRIMARY KEY,
          tracking_id TEXT NOT NULL,
          ts          INTEGER NOT NULL,
          payload     TEXT NOT NULL
        );
        -- Serves scan (keyset on ts, event_id), count and deleteBefore.
        CREATE INDEX archive_events_by_time ON archive_events (tracking_id, ts, event_id);

        -- ---------------------------------------------------------------- rollups
        CREATE TABLE rollup_totals (
          tracking_id   TEXT NOT NULL,
          granularity   TEXT NOT NULL,
          bucket_start  INTEGER NOT NULL,
          logic_version INTEGER NOT NULL,
          pageviews     INTEGER NOT NULL,
          events        INTEGER NOT NULL,
          visits        INTEGER NOT NULL,
          bounces       INTEGER NOT NULL,
          duration_ms   INTEGER NOT NULL,
          conversions   INTEGER NOT NULL,
          revenue       TEXT NOT NULL,   -- JSON {currency: minor units}
          visitors      BLOB NOT NULL,   -- HyperLogLog sketch
          PRIMARY KEY (tracking_id, granularity, bucket_start)
        ) WITHOUT ROWID;  -- clustered by key: readTotals is one sequential range, measured ~1.5x faster
        CREATE TABLE rollup_breakdowns (
          tracking_id  TEXT NOT NULL,
          granularity  TEXT NOT NULL,
          bucket_start INTEGER NOT NULL,
          dimension    TEXT NOT NULL,
          value        TEXT NOT NULL,
          pageviews    INTEGER NOT NULL,
          events       INTEGER NOT NULL,
          visits       INTEGER NOT NULL,
          bounces      INTEGER NOT NULL,
          duration_ms  INTEGER NOT NULL,
          conversions  INTEGER NOT NULL,
          revenue      TEXT NOT NULL,
          visitors     BLOB NOT NULL,
          -- Key order serves readBreakdown: one dimension of one site over a time range.
          PRIMARY KEY (tracking_id, granularity, dimension, bucket_start, value)
        ) WITHOUT ROWID;
        -- Serves the replacement of one bucket's rows, whatever dimensions it had.
        CREATE INDEX rollup_breakdowns_by_bucket ON rollup_breakdowns (tracking_id, granularity, bucket_start);

        CREATE TABLE rollup_sessions (
          tracking_id    TEXT NOT NULL,
          visitor_id     TEXT NOT NULL,
          start_ts       INTEGER NOT NULL,
          end_ts         INTEGER NOT NULL,
          first_event_id TEXT NOT NULL,
          last_event_id  TEXT NOT NULL,
          entry_page     TEXT NOT NULL,
          exit_page      TEXT NOT NULL,
          pageviews      INTEGER NOT NULL,
          events         INTEGER NOT NULL,
          source         TEXT NOT NULL,
          utm_source     TEXT NOT NULL,
          utm_medium     TEXT NOT NULL,
          utm_campaign   TEXT NOT NULL,
          country        TEXT NOT NULL,
          device         TEXT NOT NULL,
          browser        TEXT NOT NULL,
          os             TEXT NOT NULL,
          PRIMARY KEY (tracking_id, visitor_id)
        );
        CREATE INDEX rollup_sessions_by_end ON rollup_sessions (end_ts);

        CREATE TABLE rollup_seen (
          tracking_id TEXT NOT NULL,
          event_id    TEXT NOT NULL,
          at          INTEGER NOT NULL,
          PRIMARY KEY (tracking_id, event_id)
        ) WITHOUT ROWID;
        CREATE INDEX rollup_seen_by_at ON rollup_seen (at);

        CREATE TABLE rollup_checkpoints (
          partition   INTEGER PRIMARY KEY,
          next_offset INTEGER NOT NULL,
          updated_at  INTEGER NOT NULL
        );

        -- ---------------------------------------------------------------- registry
        CREATE TABLE tenants (
          id                 TEXT PRIMARY KEY,
          name               TEXT NOT NULL,
          status             TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
          rate_limit_per_sec REAL NOT NULL,
          monthly_event_cap  INTEGER,
          retention_days     INTEGER NOT NULL,
          created_at         INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE tracking_ids (
          id              TEXT PRIMARY KEY,
          tenant_id       TEXT NOT NULL REFERENCES tenants (id),
          name            TEXT NOT NULL,
          allowed_origins TEXT NOT NULL,   -- JSON array of origins
          server_key      TEXT NOT NULL,
          status          TEXT NOT NULL CHECK (status IN ('active', 'paused', 'revoked')),
          respect_dnt     INTEGER NOT NULL,
          created_at      INTEGER NOT NULL
        );
        CREATE INDEX tracking_ids_by_tenant ON tracking_ids (tenant_id);
        CREATE TABLE api_keys (
          id         TEXT PRIMARY KEY,
          tenant_id  TEXT NOT NULL REFERENCES tenants (id),
          name       TEXT NOT NULL,
          key_hash   TEXT NOT NULL UNIQUE,
          scope      TEXT NOT NULL CHECK (scope IN ('tenant', 'admin')),
          created_at INTEGER NOT NULL
        );
        CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id);
        CREATE TABLE ingest_counts (
          tracking_id TEXT NOT NULL,
          day         INTEGER NOT NULL,
          counter     TEXT NOT NULL,
          value       INTEGER NOT NULL,
          PRIMARY KEY (tracking_id, day, counter)
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 2,
    description: 'replay jobs',
    up(db) {
      db.exec(`
        -- ---------------------------------------------------------------- replay jobs (registry)
        -- The job document as JSON; status and created_at as columns for the runners' poll.
        CREATE TABLE replay_jobs (
          id         TEXT PRIMARY KEY,
          status     TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
          created_at INTEGER NOT NULL,
          doc        TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX replay_jobs_by_status ON replay_jobs (status, created_at);
      `);
    },
  },
  {
    version: 3,
    description: 'partition owner epochs (fencing of aggregator commits)',
    up(db) {
      db.exec(`ALTER TABLE rollup_checkpoints ADD COLUMN owner_epoch INTEGER NOT NULL DEFAULT 0;`);
    },
  },
  {
    // The merchant dashboards: per-tenant embed-token secrets.
    version: 4,
    description: 'embed token secrets',
    up(db) {
      db.exec(`
        -- ---------------------------------------------------------------- embed secrets (registry)
        -- One HMAC secret per tenant for dashboard embed tokens; a rotation replaces the secret
        -- and raises the generation (every older token is then revoked).
        CREATE TABLE embed_secrets (
          tenant_id  TEXT PRIMARY KEY REFERENCES tenants (id),
          secret     TEXT NOT NULL,
          generation INTEGER NOT NULL,
          rotated_at INTEGER NOT NULL
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    // The control plane: admin users, sessions, audit log, scaling.
    version: 5,
    description: 'admin users, sessions, audit log, desired scale and nodes',
    up(db) {
      db.exec(`
        -- ---------------------------------------------------------------- scaling (supervisor)
        -- Desired worker counts per node (JSON WorkerCounts), written by the admin API.
        CREATE TABLE desired_scale (
          node_id    TEXT PRIMARY KEY,
          counts     TEXT NOT NULL,
          updated_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        -- Each node's last report (JSON NodeStatus); only that node's supervisor writes its row.
        CREATE TABLE nodes (
          node_id      TEXT PRIMARY KEY,
          last_seen_at INTEGER NOT NULL,
          doc          TEXT NOT NULL
        ) WITHOUT ROWID;
      `);
      db.exec(`
        -- ---------------------------------------------------------------- admin users, sessions, audit (admin API)
        CREATE TABLE admin_users (
          id            TEXT PRIMARY KEY,
          username      TEXT NOT NULL,
          username_key  TEXT NOT NULL UNIQUE, -- lower-cased: sign-in ignores case
          role          TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'viewer')),
          password_hash TEXT NOT NULL,
          disabled      INTEGER NOT NULL DEFAULT 0,
          created_at    INTEGER NOT NULL,
          updated_at    INTEGER NOT NULL
        );
        CREATE TABLE admin_sessions (
          token_hash TEXT PRIMARY KEY,
          user_id    TEXT NOT NULL REFERENCES admin_users (id),
          created_at INTEGER NOT NULL,
          expires_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX admin_sessions_by_user ON admin_sessions (user_id);
        CREATE TABLE audit_log (
          id         TEXT PRIMARY KEY, -- sorts by time
          at         INTEGER NOT NULL,
          actor      TEXT NOT NULL,
          actor_name TEXT NOT NULL,
          action     TEXT NOT NULL,
          target     TEXT,
          before     TEXT NOT NULL, -- JSON
          after      TEXT NOT NULL  -- JSON
        ) WITHOUT ROWID;
        CREATE INDEX audit_log_by_target ON audit_log (target, id);
      `);
    },
  },
  {
    // Every visit a late event can still join, not only the latest.
    version: 6,
    description: 'earlier visits of each visitor',
    up(db) {
      // JSON (appliance/storage/visit-history.ts); the row's columns stay the latest visit.
      db.exec(`ALTER TABLE rollup_sessions ADD COLUMN earlier TEXT NOT NULL DEFAULT '[]';`);
    },
  },
  {
    // The daily salts of visitor IDs, durable so a restart keeps the day's visitors.
    version: 7,
    description: 'daily salts',
    up(db) {
      db.exec(`
        -- ---------------------------------------------------------------- daily salts (registry)
        -- One row per UTC day (ms at 00:00), created once (INSERT OR IGNORE), deleted by the
        -- maintenance once the day began 48 h ago.
        CREATE TABLE daily_salts (
          day        INTEGER PRIMARY KEY,
          salt       TEXT NOT NULL,
          created_at INTEGER NOT NULL
        );
      `);
    },
  },
];
