/**
 * The cluster profile's RollupStore on Cassandra (schema and layout: cassandra-schema.ts).
 *
 * Consistency: LOCAL_QUORUM for every read and write (set as the client default). Reads then see
 * every acknowledged write (R + W > RF) within the data centre; with the RF 1 of the dev stack
 * it is the same as ONE. The aggregator reads its own commits back (checkpoint, buckets,
 * sessions, seen IDs), so it needs read-your-writes; ONE would not give it for RF > 1.
 *
 * How commit() is all-or-nothing, and fenced
 * --------------------------------------------
 * A commit (an aggregator batch is typically 30 KiB–5 MiB, past Cassandra's batch size limit) is
 * written through a redo record, a client-side batchlog:
 *   1. the whole RollupCommit is written, serialised, to pending_commits (in chunks);
 *   2. ONE lightweight transaction on the partition's checkpoint row sets next_offset AND marks
 *      the commit pending, IF owner_epoch is still the epoch this instance claimed: this is the
 *      commit point (a single-row compare-and-set is atomic, isolated and linearizable);
 *   3. the statements are applied (idempotent overwrites, with the commit's timestamp);
 *   4. the pending mark (compare-and-set on pending_ts) and the payload are removed.
 * A crash before 2 leaves the old checkpoint and no visible change (the payload is never used).
 * A crash after 2 leaves the new checkpoint: whoever next calls checkpoint(), claim() or
 * commit() for the partition (the aggregator claims every partition it is assigned, and reloads
 * after any failure) first finds the mark and applies the payload again, then clears it. Every
 * statement is an overwrite carrying the commit's timestamp, so applying twice is the same as
 * once. The aggregator never sees a checkpoint whose data is missing, nor data whose checkpoint
 * is missing.
 *
 * Fencing. Kafka's group protocol gives a partition one owner at a time only as long as every
 * member notices a rebalance in time; a member that stalls (GC, a long retry, a partition from
 * the network) can still be working on a partition that was given to another. claim() raises
 * the partition's owner_epoch by compare-and-set and remembers it; the commit point above only
 * applies if the epoch is unchanged, so a stale owner's commit is refused (PartitionFencedError)
 * before anything of it is visible, and its payload is never applied. The new owner reads the
 * checkpoint after its claim (a SERIAL read, which also completes any Paxos round in flight), so
 * it starts from exactly what the last accepted commit left.
 *
 * Timestamps: every commit of a partition carries an explicit write timestamp larger than the
 * previous commit's (write_ts, kept in the checkpoint row), so a late write of an older commit's
 * statement can never win over a newer one, whichever node's clock wrote it. The checkpoint row
 * itself is written only by lightweight transactions (which cannot take custom timestamps, and
 * must not be mixed with plain writes on the same row).
 *
 * Costs (appliance/storage/cluster/README.md): two compare-and-sets per commit, a few ms each on
 * the dev stack. Smaller commits were once sent as one logged batch; that path could not be fenced
 * (conditional batches must stay within one Cassandra partition) and is gone.
 */
import { serialize, deserialize } from 'node:v8';
import cassandra from 'cassandra-driver';
import { PartitionFencedError, type RollupCommit, type RollupStore } from '../../../core/ports/index.ts';
import { DIMENSIONS, type BreakdownRow, type BucketKey, type Dimension, type RollupRow, type SessionState, type StoredBucket } from '../../../core/rollup/model.ts';
import { DAY_MS, HOUR_MS, dayOf, type Granularity } from '../../../core/time.ts';
import { decodeBreakdownRows, encodeBreakdownRows } from './rollup-codec.ts';
import { decodeEarlier, distinctVisitors, encodeEarlier, visitorRecords, type VisitorRecord } from '../visit-history.ts';
import { sleep, withTimeout } from '../../../core/async.ts';

export interface CassandraRollupStoreOptions {
  keyspace: string;
  /** TTL of seen-event rows: the dedup window (prune() also deletes them explicitly). */
  seenTtlSeconds: number;
  /** Size of one pending_commits chunk. Default 512 KiB. */
  pendingChunkBytes?: number;
  /** Parallel requests of one read or apply. Default 32. */
  concurrency?: number;
  /** How long a partition is held after a failed commit. Default 15 000 ms. */
  ambiguousCommitWaitMs?: number;
  log?: (message: string) => void;
}

export interface CommitStats {
  path: 'redo';
  statements: number;
  estimatedBytes: number;
  ms: number;
}

export interface CassandraRollupStore extends RollupStore {
  ping(timeoutMs?: number): Promise<boolean>;
  /** How the last commit was written (for benchmarks and logs). */
  lastCommit(): CommitStats | undefined;
}

interface Statement {
  query: string;
  params: unknown[];
  /** The Cassandra partition the statement writes (statements of one partition can share a batch). */
  key?: string;
}

type Row = cassandra.types.Row;

/** Compare-and-set writes on the checkpoint row, and the reads that must see them. */
const LWT = { prepare: true, serialConsistency: cassandra.types.consistencies.localSerial };
const SERIAL_READ = { prepare: true, consistency: cassandra.types.consistencies.localSerial };

const COUNTER_COLUMNS = 'pageviews, events, visits, bounces, duration_ms, conversions, revenue, visitors';
const SESSION_COLUMNS = `tracking_id, visitor_id, start_ts, end_ts, first_event_id, last_event_id, entry_page, exit_page,
  pageviews, events, source, utm_source, utm_medium, utm_campaign, country, device, browser, os, earlier`;

export function createCassandraRollupStore(client: cassandra.Client, options: CassandraRollupStoreOptions): CassandraRollupStore {
  const ks = options.keyspace;
  const chunkBytes = options.pendingChunkBytes ?? 512 * 1024;
  const concurrency = options.concurrency ?? 32;
  const ambiguousWaitMs = options.ambiguousCommitWaitMs ?? 15_000;
  const seenTtl = Math.max(1, Math.ceil(options.seenTtlSeconds));
  const log = options.log ?? (() => {});

  const Q = {
    insertTotals: `INSERT INTO ${ks}.rollup_totals (tracking_id, granularity, period, bucket_start, logic_version, has_breakdowns, ${COUNTER_COLUMNS})
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    insertBreakdown: `INSERT INTO ${ks}.rollup_breakdowns (tracking_id, granularity, period, dimension, bucket_start, rows) VALUES (?, ?, ?, ?, ?, ?)`,
    insertSession: `INSERT INTO ${ks}.sessions (${SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    insertSeen: `INSERT INTO ${ks}.seen_events (tracking_id, event_id, at) VALUES (?, ?, ?) USING TTL ?`,
    insertExpiry: `INSERT INTO ${ks}.expiry_index (kind, hour, partition, write_ts, items) VALUES (?, ?, ?, ?, ?) USING TTL ?`,
    insertExpiryHour: `INSERT INTO ${ks}.expiry_hours (kind, hour) VALUES (?, ?)`,
    // The checkpoint row: compare-and-set only (see the header).
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
  };

  // ---------------------------------------------------------------- per-partition bookkeeping

  /** The owner epoch this instance claimed, per partition (fencing). */
  const epochs = new Map<number, number>();
  /** Write timestamp (µs) of the partition's last commit, once its checkpoint was read here. */
  const lastTs = new Map<number, number>();
  /** Partitions held after a failed commit, until this time (ms). */
  const heldUntil = new Map<number, number>();
  /** Partitions whose last commit failed: re-read the checkpoint (and finish a pending commit) first. */
  const stale = new Set<number>();
  let last: CommitStats | undefined;
  let closed = false;

  function assertOpen(): void {
    if (closed) throw new Error('The rollup store is closed. Open the storage again to use it.');
  }

  async function waitIfHeld(partition: number): Promise<void> {
    const until = heldUntil.get(partition);
    if (until === undefined) return;
    const wait = until - Date.now();
    if (wait > 0) {
      log(`cassandra: partition ${partition} had a failed commit whose outcome is unknown; waiting ${wait} ms for a possible batchlog replay`);
      await sleep(wait);
    }
    heldUntil.delete(partition);
  }

  function nextTimestamp(partition: number): number {
    const ts = Math.max(Date.now() * 1000, (lastTs.get(partition) ?? 0) + 1);
    lastTs.set(partition, ts);
    return ts;
  }

  /** Reads the checkpoint, finishing a decided-but-unapplied large commit first. */
  async function loadPartition(partition: number): Promise<number> {
    await waitIfHeld(partition);
    stale.delete(partition);
    const row = (await client.execute(Q.selectCheckpoint, [partition], SERIAL_READ)).first();
    if (!row) {
      lastTs.set(partition, lastTs.get(partition) ?? 0);
      return 0;
    }
    let ts = num(row.write_ts);
    if (row.pending_ts !== null && row.pending_ts !== undefined) {
      const pendingTs = num(row.pending_ts);
      await rollForward(partition, pendingTs, row.pending_chunks as number);
      ts = Math.max(ts, pendingTs + 1);
    }
    lastTs.set(partition, Math.max(lastTs.get(partition) ?? 0, ts));
    return num(row.next_offset);
  }

  async function rollForward(partition: number, pendingTs: number, chunks: number): Promise<void> {
    const rows = await selectAll(client, Q.selectPending, [partition, pendingTs]);
    if (rows.length !== chunks) {
      throw new Error(`Rollup commit of partition ${partition} at ${pendingTs} is marked pending with ${chunks} chunks but ${rows.length} are stored; the store is inconsistent.`);
    }
    rows.sort((a, b) => (a.chunk as number) - (b.chunk as number));
    const write = deserialize(Buffer.concat(rows.map((r) => r.payload as Buffer))) as RollupCommit;
    log(`cassandra: finishing the pending commit of partition ${partition} (next offset ${write.nextOffset})`);
    await applyAll(dataStatements(write, pendingTs), pendingTs);
    await clearPending(partition, pendingTs);
  }

  async function clearPending(partition: number, pendingTs: number): Promise<void> {
    // Only this commit's mark: a newer owner may already have marked its own.
    await Promise.all([
      client.execute(Q.clearPending, [partition, pendingTs], LWT),
      // Later than the commit's own cells, earlier than the next commit's (lastTs is pendingTs + 1).
      client.execute(Q.deletePending, [partition, pendingTs], { timestamp: pendingTs + 1 }),
    ]);
  }

  /** Raises the partition's owner epoch by compare-and-set (retried under contention), then loads it. */
  async function claimPartition(partition: number): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      const row = (await client.execute(Q.selectCheckpoint, [partition], SERIAL_READ)).first();
      const current = row ? (row.owner_epoch === null || row.owner_epoch === undefined ? null : num(row.owner_epoch)) : undefined;
      const next = (current ?? 0) + 1;
      const result = current === undefined
        ? await client.execute(Q.claimNew, [partition, new Date()], LWT)
        : await client.execute(Q.claimNext, [next, new Date(), partition, current], LWT);
      if (result.wasApplied()) {
        epochs.set(partition, next);
        log(`cassandra: claimed partition ${partition} (owner epoch ${next})`);
        return loadPartition(partition);
      }
      if (attempt >= 10) throw new Error(`Could not claim partition ${partition}: its owner epoch kept changing (another aggregator is claiming it at the same time). It is retried with the next batch.`);
      await sleep(20 * attempt);
    }
  }

  /**
   * Applies statements in any order (each is an idempotent overwrite with the commit's timestamp).
   * Statements for the same Cassandra partition go as one unlogged single-partition batch: atomic
   * for that partition, one request, and exempt from the batch size limit (which only applies to
   * batches spanning partitions).
   */
  async function applyAll(statements: Statement[], timestamp: number): Promise<void> {
    const groups = new Map<string, Statement[]>();
    const singles: Statement[][] = [];
    for (const s of statements) {
      if (s.key === undefined) {
        singles.push([s]);
        continue;
      }
      const g = groups.get(s.key);
      if (g) g.push(s);
      else groups.set(s.key, [s]);
    }
    await mapLimit([...groups.values(), ...singles], concurrency * 2, (g) =>
      g.length === 1
        ? client.execute(g[0].query, g[0].params, { timestamp })
        : client.batch(g, { prepare: true, logged: false, timestamp }));
  }

  // ---------------------------------------------------------------- statements of a commit

  function dataStatements(w: RollupCommit, ts: number): Statement[] {
    const out: Statement[] = [];
    for (const b of w.buckets) {
      const period = periodOf(b.granularity, b.start);
      const hasBreakdowns = b.granularity !== 'minute' || b.breakdowns.length > 0;
      const key = `${b.trackingId}\u0000${b.granularity}\u0000${period}`;
      out.push({
        query: Q.insertTotals,
        params: [b.trackingId, b.granularity, period, b.start, b.logicVersion, hasBreakdowns, ...counterParams(b.totals)],
        key: `t\u0000${key}`,
      });
      if (!hasBreakdowns) continue;
      // Every dimension gets its row, empty ones too: that is what removes a previous version's values.
      const byDimension = new Map<string, BreakdownRow[]>(DIMENSIONS.map((d) => [d, []]));
      for (const r of b.breakdowns) {
        const list = byDimension.get(r.dimension);
        if (list) list.push(r);
        else byDimension.set(r.dimension, [r]);
      }
      for (const [dimension, rows] of byDimension) {
        out.push({ query: Q.insertBreakdown, params: [b.trackingId, b.granularity, period, dimension, b.start, encodeBreakdownRows(rows)], key: `b\u0000${key}` });
      }
    }
    // One row per visitor (its whole set of visits): see visit-history.ts.
    const visitors = visitorRecords(w.sessions);
    for (const v of visitors) out.push({ query: Q.insertSession, params: sessionParams(v) });
    for (const s of w.seen) out.push({ query: Q.insertSeen, params: [s.trackingId, s.eventId, s.at, seenTtl] });

    // Expiry index: one row per kind, hour and commit.
    const seenByHour = groupBy(w.seen, (s) => hourOf(s.at), (s) => [s.trackingId, s.eventId, s.at]);
    const sessionsByHour = groupBy(visitors.map((v) => v.latest), (s) => hourOf(s.end), (s) => [s.trackingId, s.visitorId]);
    for (const [kind, groups, ttl] of [['seen', seenByHour, seenTtl + 3600], ['session', sessionsByHour, 0]] as const) {
      for (const [hour, entries] of groups) {
        // TTL 0 is "no TTL".
        out.push({ query: Q.insertExpiry, params: [kind, hour, w.partition, ts, JSON.stringify(entries), ttl], key: `x\u0000${kind}\u0000${hour}` });
        out.push({ query: Q.insertExpiryHour, params: [kind, hour], key: `h\u0000${kind}` });
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- reads

  async function readBucket(k: BucketKey): Promise<StoredBucket | undefined> {
    const period = periodOf(k.granularity, k.start);
    const row = (await client.execute(Q.selectBucket, [k.trackingId, k.granularity, period, k.start])).first();
    if (!row) return undefined;
    const breakdowns: BreakdownRow[] = [];
    if (row.has_breakdowns) {
      const rows = await selectAll(client, Q.selectBucketBreakdowns, [k.trackingId, k.granularity, period, [...DIMENSIONS], k.start]);
      for (const r of rows) breakdowns.push(...decodeBreakdownRows(r.rows as Buffer, r.dimension as Dimension));
    }
    return { trackingId: k.trackingId, granularity: k.granularity, start: k.start, totals: rollupRow(row), breakdowns, logicVersion: row.logic_version as number };
  }

  // ---------------------------------------------------------------- tenant deletion (admin API, issue 5)
  // Partition deletes of every (granularity, period) in the range. Their write time is now, so
  // they shadow every bucket written before; the tracking ID is revoked first, so none come after.
  // Sessions and seen-IDs cannot be listed by tracking ID here: they expire with pruning.
  const deleteTotalsPartition = `DELETE FROM ${ks}.rollup_totals WHERE tracking_id = ? AND granularity = ? AND period = ?`;
  const deleteBreakdownsPartition = `DELETE FROM ${ks}.rollup_breakdowns WHERE tracking_id = ? AND granularity = ? AND period = ?`;
  async function deleteTrackingId(trackingId: string, range: { from: number; to: number }): Promise<void> {
    const timestamp = Date.now() * 1000;
    const work = (['minute', 'hour', 'day'] as const).flatMap((g) => periodsIn(g, range.from, range.to).map((p) => [g, p] as const));
    await mapLimit(work, concurrency, async ([granularity, period]) => {
      await client.execute(deleteTotalsPartition, [trackingId, granularity, period], { prepare: true, timestamp });
      await client.execute(deleteBreakdownsPartition, [trackingId, granularity, period], { prepare: true, timestamp });
    });
  }

  return {
    async deleteTrackingId(trackingId, range) {
      assertOpen();
      return deleteTrackingId(trackingId, range);
    },

    async checkpoint(partition) {
      assertOpen();
      return loadPartition(partition);
    },

    async claim(partition) {
      assertOpen();
      return claimPartition(partition);
    },

    async commit(w) {
      assertOpen();
      const started = Date.now();
      const p = w.partition;
      if (!epochs.has(p)) await claimPartition(p);
      else if (!lastTs.has(p) || stale.has(p) || heldUntil.has(p)) await loadPartition(p);
      const ts = nextTimestamp(p);
      const data = dataStatements(w, ts);
      try {
        await commitRedo(w, ts, data);
        last = { path: 'redo', statements: data.length + 1, estimatedBytes: estimateBytes(data) + 64, ms: Date.now() - started };
      } catch (err) {
        if (err instanceof PartitionFencedError) throw err;
        // The outcome is unknown: hold the partition, and re-read its checkpoint before going on.
        heldUntil.set(p, Date.now() + ambiguousWaitMs);
        stale.add(p);
        throw err;
      }
    },

    async getBuckets(keys) {
      assertOpen();
      const found = await mapLimit(keys, concurrency, readBucket);
      return found.filter((b): b is StoredBucket => b !== undefined);
    },

    async getSessions(keys) {
      assertOpen();
      const found = await mapLimit(distinctVisitors(keys), concurrency, async (k) => (await client.execute(Q.selectSession, [k.trackingId, k.visitorId])).first());
      return found
        .filter((r): r is Row => r !== null && r !== undefined)
        .flatMap((r) => [...decodeEarlier(r.earlier as string | null, r.tracking_id as string, r.visitor_id as string), sessionState(r)]);
    },

    async seenEventIds(trackingId, eventIds) {
      assertOpen();
      const unique = [...new Set(eventIds)];
      const chunks: string[][] = [];
      for (let i = 0; i < unique.length; i += 100) chunks.push(unique.slice(i, i + 100));
      const seen = new Set<string>();
      await mapLimit(chunks, Math.max(1, concurrency / 4), async (chunk) => {
        for (const r of (await client.execute(Q.selectSeen, [trackingId, chunk])).rows) seen.add(r.event_id as string);
      });
      return seen;
    },

    async readTotals(trackingId, granularity, from, to) {
      assertOpen();
      const perPeriod = await mapLimit(periodsIn(granularity, from, to), concurrency, (period) =>
        selectAll(client, Q.selectTotals, [trackingId, granularity, period, from, to]));
      return perPeriod.flat().map((r) => Object.assign(rollupRow(r), { start: num(r.bucket_start) }));
    },

    async readBreakdown(trackingId, granularity, from, to, dimension) {
      assertOpen();
      const perPeriod = await mapLimit(periodsIn(granularity, from, to), concurrency, (period) =>
        selectAll(client, Q.selectBreakdown, [trackingId, granularity, period, dimension, from, to]));
      const out: (BreakdownRow & { start: number })[] = [];
      for (const r of perPeriod.flat()) {
        const start = num(r.bucket_start);
        const rows = decodeBreakdownRows(r.rows as Buffer, dimension).sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
        for (const row of rows) out.push(Object.assign(row, { start }));
      }
      return out;
    },

    async prune(before, seenBefore) {
      assertOpen();
      await pruneKind('seen', seenBefore);
      await pruneKind('session', before);
    },

    async ping(timeoutMs = 2000) {
      try {
        await withTimeout(client.execute('SELECT release_version FROM system.local', [], { prepare: true }), timeoutMs);
        return true;
      } catch {
        return false;
      }
    },

    lastCommit: () => last,

    async close() {
      closed = true;
    },
  };

  async function commitRedo(w: RollupCommit, ts: number, data: Statement[]): Promise<void> {
    const p = w.partition;
    const payload = serialize(w);
    const chunks: Buffer[] = [];
    for (let i = 0; i < payload.length; i += chunkBytes) chunks.push(payload.subarray(i, i + chunkBytes));
    const dropPayload = () => client.execute(Q.deletePending, [p, ts], { timestamp: ts + 1 }).catch(() => {});
    try {
      await mapLimit(chunks, 4, (c, i) => client.execute(Q.insertPending, [p, ts, i, c], { timestamp: ts }));
    } catch (err) {
      // Before the commit point: nothing is decided; the payload is garbage (removed if we can).
      await dropPayload();
      throw err;
    }
    // The commit point, fenced by the owner epoch.
    const decided = await client.execute(Q.markPending, [w.nextOffset, ts, ts, chunks.length, new Date(), p, epochs.get(p)], LWT);
    if (!decided.wasApplied()) {
      await dropPayload();
      log(`cassandra: commit of partition ${p} refused: another instance claimed it (owner epoch now ${String(decided.first()?.owner_epoch)}, ours ${epochs.get(p)})`);
      throw new PartitionFencedError(p);
    }
    await applyAll(data, ts);
    await clearPending(p, ts);
    lastTs.set(p, Math.max(lastTs.get(p) ?? 0, ts + 1));
  }

  async function pruneKind(kind: 'seen' | 'session', limit: number): Promise<void> {
    const hours = (await selectAll(client, Q.selectExpiryHours, [kind, hourOf(limit)])).map((r) => num(r.hour));
    for (const hour of hours) {
      const whole = hour + HOUR_MS <= limit;
      const rows = await selectAll(client, Q.selectExpiry, [kind, hour]);
      if (kind === 'seen') {
        const expired = new Map<string, [string, string]>();
        for (const r of rows) {
          for (const [trackingId, eventId, at] of JSON.parse(r.items as string) as [string, string, number][]) {
            if (at < limit) expired.set(`${trackingId}\u0000${eventId}`, [trackingId, eventId]);
          }
        }
        await mapLimit([...expired.values()], concurrency, ([t, e]) => client.execute(Q.deleteSeen, [t, e]));
      } else {
        const keys = new Map<string, [string, string]>();
        for (const r of rows) {
          for (const [trackingId, visitorId] of JSON.parse(r.items as string) as [string, string][]) keys.set(`${trackingId}\u0000${visitorId}`, [trackingId, visitorId]);
        }
        await mapLimit([...keys.values()], concurrency, async ([t, v]) => {
          const s = (await client.execute(Q.selectSessionEnd, [t, v])).first();
          // The session may have been extended since it was indexed here: then it lives on (and is
          // indexed under its new end hour). The delete carries the version's own write time, so it
          // cannot remove a newer version written meanwhile.
          if (s && num(s.end_ts) < limit) await client.execute(Q.deleteSession, [s.wt, t, v]);
        });
      }
      if (whole) {
        await client.execute(Q.deleteExpiry, [kind, hour]);
        await client.execute(Q.deleteExpiryHour, [kind, hour]);
      }
    }
  }
}

// ---------------------------------------------------------------- helpers

/** The partition unit of a bucket: its UTC day, or its UTC month for day buckets. */
export function periodOf(granularity: Granularity, start: number): number {
  if (granularity !== 'day') return dayOf(start);
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** Periods that can hold bucket starts in [from, to), in order. */
export function periodsIn(granularity: Granularity, from: number, to: number): number[] {
  if (!(from < to)) return [];
  const out: number[] = [];
  const lastPeriod = periodOf(granularity, to - 1);
  for (let p = periodOf(granularity, from); p <= lastPeriod;) {
    out.push(p);
    if (granularity === 'day') {
      const d = new Date(p);
      p = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    } else p += DAY_MS;
  }
  return out;
}

function hourOf(ts: number): number {
  return Math.floor(ts / HOUR_MS) * HOUR_MS;
}

function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === null || v === undefined) return 0;
  if (typeof v === 'bigint') return Number(v);
  return (v as { toNumber(): number }).toNumber();
}

function counterParams(r: RollupRow): unknown[] {
  return [r.pageviews, r.events, r.visits, r.bounces, r.durationMs, r.conversions, r.revenue, Buffer.from(r.visitors.buffer, r.visitors.byteOffset, r.visitors.byteLength)];
}

function rollupRow(r: Row): RollupRow {
  const revenue: Record<string, number> = {};
  for (const [k, v] of Object.entries((r.revenue ?? {}) as Record<string, unknown>)) revenue[k] = num(v);
  const b = r.visitors as Buffer | null;
  return {
    pageviews: num(r.pageviews),
    events: num(r.events),
    visits: num(r.visits),
    bounces: num(r.bounces),
    durationMs: num(r.duration_ms),
    conversions: num(r.conversions),
    revenue,
    // A plain Uint8Array (same memory), as the port promises.
    visitors: b ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(0),
  };
}

function sessionParams({ latest: s, earlier }: VisitorRecord): unknown[] {
  return [
    s.trackingId, s.visitorId, s.start, s.end, s.firstEventId, s.lastEventId, s.entryPage, s.exitPage,
    s.pageviews, s.events, s.source, s.utmSource, s.utmMedium, s.utmCampaign, s.country, s.device, s.browser, s.os,
    encodeEarlier(earlier),
  ];
}

function sessionState(r: Row): SessionState {
  return {
    trackingId: r.tracking_id as string,
    visitorId: r.visitor_id as string,
    start: num(r.start_ts),
    end: num(r.end_ts),
    firstEventId: r.first_event_id as string,
    lastEventId: r.last_event_id as string,
    entryPage: r.entry_page as string,
    exitPage: r.exit_page as string,
    pageviews: num(r.pageviews),
    events: num(r.events),
    source: r.source as string,
    utmSource: r.utm_source as string,
    utmMedium: r.utm_medium as string,
    utmCampaign: r.utm_campaign as string,
    country: r.country as string,
    device: r.device as string,
    browser: r.browser as string,
    os: r.os as string,
  };
}

/** Rough size of the mutations, to stay under batch_size_fail_threshold (with per-cell overhead). */
function estimateBytes(statements: readonly Statement[]): number {
  let n = 0;
  for (const s of statements) {
    n += 16;
    for (const v of s.params) {
      n += 12;
      if (typeof v === 'string') n += Buffer.byteLength(v);
      else if (typeof v === 'number') n += 8;
      else if (v instanceof Uint8Array) n += v.byteLength;
      else if (v && typeof v === 'object' && !(v instanceof Date)) for (const k of Object.keys(v)) n += k.length + 16;
      else n += 8;
    }
  }
  return n;
}

function groupBy<T, E>(items: readonly T[], key: (t: T) => number, entry: (t: T) => E): Map<number, E[]> {
  const out = new Map<number, E[]>();
  for (const t of items) {
    const k = key(t);
    const list = out.get(k);
    if (list) list.push(entry(t));
    else out.set(k, [entry(t)]);
  }
  return out;
}

async function selectAll(client: cassandra.Client, query: string, params: unknown[]): Promise<Row[]> {
  const out: Row[] = [];
  let pageState: string | undefined;
  do {
    const r = await client.execute(query, params, { prepare: true, fetchSize: 5000, pageState });
    out.push(...r.rows);
    pageState = r.pageState ?? undefined;
  } while (pageState);
  return out;
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(Math.max(1, Math.floor(limit)), items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  });
  await Promise.all(workers);
  return out;
}
