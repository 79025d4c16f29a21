/**
 * The CQL text of the Cassandra RollupStore, one place per keyspace (tables: cassandra-schema.ts),
 * and the query options of the compare-and-set writes on the checkpoint row.
 */
import cassandra from 'cassandra-driver';

/** Compare-and-set writes on the checkpoint row, and the reads that must see them. */
export const LWT = { prepare: true, serialConsistency: cassandra.types.consistencies.localSerial };
export const SERIAL_READ = { prepare: true, consistency: cassandra.types.consistencies.localSerial };

const COUNTER_COLUMNS = 'pageviews, events, visits, bounces, duration_ms, conversions, revenue, visitors';
const SESSION_COLUMNS = `tracking_id, visitor_id, start_ts, end_ts, first_event_id, last_event_id, entry_page, exit_page,
  pageviews, events, source, utm_source, utm_medium, utm_campaign, country, device, browser, os, earlier`;

export type RollupCql = ReturnType<typeof rollupCql>;

export function rollupCql(ks: string) {
  return {
    insertTotals: `INSERT INTO ${ks}.rollup_totals (tracking_id, granularity, period, bucket_start, logic_version, has_breakdowns, ${COUNTER_COLUMNS})
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    insertBreakdown: `INSERT INTO ${ks}.rollup_breakdowns (tracking_id, granularity, period, dimension, bucket_start, rows) VALUES (?, ?, ?, ?, ?, ?)`,
    insertSession: `INSERT INTO ${ks}.sessions (${SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    insertSeen: `INSERT INTO ${ks}.seen_events (tracking_id, event_id, at) VALUES (?, ?, ?) USING TTL ?`,
    insertExpiry: `INSERT INTO ${ks}.expiry_index (kind, hour, partition, write_ts, items) VALUES (?, ?, ?, ?, ?) USING TTL ?`,
    insertExpiryHour: `INSERT INTO ${ks}.expiry_hours (kind, hour) VALUES (?, ?)`,
    // The checkpoint row: compare-and-set only (see cassandra-commit.ts).
    claimNew: `INSERT INTO ${ks}.checkpoints (partition, next_offset, write_ts, owner_epoch, updated_at) VALUES (?, 0, 0, 1, ?) IF NOT EXISTS`,
    claimNext: `UPDATE ${ks}.checkpoints SET owner_epoch = ?, updated_at = ? WHERE partition = ? IF owner_epoch = ?`,
    markPending: `UPDATE ${ks}.checkpoints SET next_offset = ?, write_ts = ?, pending_ts = ?, pending_chunks = ?, updated_at = ? WHERE partition = ? IF owner_epoch = ?`,
    clearPending: `UPDATE ${ks}.checkpoints SET pending_ts = null, pending_chunks = null WHERE partition = ? IF pending_ts = ?`,
    selectCheckpoint: `SELECT next_offset, write_ts, pending_ts, pending_chunks, owner_epoch FROM ${ks}.checkpoints WHERE partition = ?`,
    insertPending: `INSERT INTO ${ks}.pending_commits (partition, commit_ts, chunk, payload) VALUES (?, ?, ?, ?)`,
    selectPending: `SELECT chunk, payload FROM ${ks}.pending_commits WHERE partition = ? AND commit_ts = ?`,
    deletePending: `DELETE FROM ${ks}.pending_commits WHERE partition = ? AND commit_ts = ?`,
    selectBucket: `SELECT logic_version, has_breakdowns, ${COUNTER_COLUMNS} FROM ${ks}.rollup_totals
      WHERE tracking_id = ? AND granularity = ? AND period = ? AND bucket_start = ?`,
    selectBucketBreakdowns: `SELECT dimension, rows FROM ${ks}.rollup_breakdowns
      WHERE tracking_id = ? AND granularity = ? AND period = ? AND dimension IN ? AND bucket_start = ?`,
    selectSession: `SELECT ${SESSION_COLUMNS} FROM ${ks}.sessions WHERE tracking_id = ? AND visitor_id = ?`,
    selectSessionEnd: `SELECT end_ts, WRITETIME(end_ts) AS wt FROM ${ks}.sessions WHERE tracking_id = ? AND visitor_id = ?`,
    deleteSession: `DELETE FROM ${ks}.sessions USING TIMESTAMP ? WHERE tracking_id = ? AND visitor_id = ?`,
    selectSeen: `SELECT event_id FROM ${ks}.seen_events WHERE tracking_id = ? AND event_id IN ?`,
    deleteSeen: `DELETE FROM ${ks}.seen_events WHERE tracking_id = ? AND event_id = ?`,
    selectTotals: `SELECT bucket_start, ${COUNTER_COLUMNS} FROM ${ks}.rollup_totals
      WHERE tracking_id = ? AND granularity = ? AND period = ? AND bucket_start >= ? AND bucket_start < ?`,
    selectBreakdown: `SELECT bucket_start, rows FROM ${ks}.rollup_breakdowns
      WHERE tracking_id = ? AND granularity = ? AND period = ? AND dimension = ? AND bucket_start >= ? AND bucket_start < ?`,
    selectExpiryHours: `SELECT hour FROM ${ks}.expiry_hours WHERE kind = ? AND hour <= ?`,
    selectExpiry: `SELECT items FROM ${ks}.expiry_index WHERE kind = ? AND hour = ?`,
    deleteExpiry: `DELETE FROM ${ks}.expiry_index WHERE kind = ? AND hour = ?`,
    deleteExpiryHour: `DELETE FROM ${ks}.expiry_hours WHERE kind = ? AND hour = ?`,
    // Tenant deletion: whole (tracking ID, granularity, period) partitions.
    deleteTotalsPartition: `DELETE FROM ${ks}.rollup_totals WHERE tracking_id = ? AND granularity = ? AND period = ?`,
    deleteBreakdownsPartition: `DELETE FROM ${ks}.rollup_breakdowns WHERE tracking_id = ? AND granularity = ? AND period = ?`,
  };
}
