/**
 * The commit protocol of the Cassandra RollupStore: checkpoint, claim and commit of one Kafka
 * partition's rollups, all-or-nothing and fenced.
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
 * Costs (README.md of this folder): two compare-and-sets per commit, a few ms each on
 * the dev stack. Smaller commits were once sent as one logged batch; that path could not be fenced
 * (conditional batches must stay within one Cassandra partition) and is gone.
 */
import { serialize, deserialize } from 'node:v8';
import type cassandra from 'cassandra-driver';
import { PartitionFencedError, type RollupCommit } from '../../../core/ports/index.ts';
import { LWT, SERIAL_READ, type RollupCql } from './cassandra-cql.ts';
import { commitStatements, estimateBytes, type Statement } from './cassandra-commit-statements.ts';
import { mapLimit, sleep } from '../../../core/async.ts';
import { selectAll } from './cassandra-select.ts';
import { num } from './cassandra-rows.ts';

export interface CommitStats {
  path: 'redo';
  statements: number;
  estimatedBytes: number;
  ms: number;
}

export interface CommitProtocolOptions {
  /** Size of one pending_commits chunk, in bytes. */
  chunkBytes: number;
  /** Parallel requests of one apply. */
  concurrency: number;
  /** How long a partition is held after a failed commit, in ms. */
  ambiguousWaitMs: number;
  /** TTL of seen-event rows, in seconds. */
  seenTtl: number;
  log: (message: string) => void;
}

export interface CommitProtocol {
  /** Reads the checkpoint, finishing a decided-but-unapplied commit first. */
  checkpoint(partition: number): Promise<number>;
  /** Raises the partition's owner epoch, then reads its checkpoint. */
  claim(partition: number): Promise<number>;
  /** Writes one commit through the redo record; PartitionFencedError if another instance claimed the partition. */
  commit(w: RollupCommit): Promise<void>;
  /** How the last commit was written (for benchmarks and logs). */
  lastCommit(): CommitStats | undefined;
}

export function createCommitProtocol(client: cassandra.Client, Q: RollupCql, options: CommitProtocolOptions): CommitProtocol {
  const { chunkBytes, concurrency, ambiguousWaitMs, seenTtl, log } = options;

  /** The owner epoch this instance claimed, per partition (fencing). */
  const epochs = new Map<number, number>();
  /** Write timestamp (µs) of the partition's last commit, once its checkpoint was read here. */
  const lastTs = new Map<number, number>();
  /** Partitions held after a failed commit, until this time (ms). */
  const heldUntil = new Map<number, number>();
  /** Partitions whose last commit failed: re-read the checkpoint (and finish a pending commit) first. */
  const stale = new Set<number>();
  let last: CommitStats | undefined;

  const dataStatements = (w: RollupCommit, ts: number): Statement[] => commitStatements(Q, w, ts, seenTtl);

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

  return {
    checkpoint: loadPartition,
    claim: claimPartition,
    async commit(w) {
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
    lastCommit: () => last,
  };
}
