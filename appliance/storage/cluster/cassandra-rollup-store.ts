/**
 * The cluster profile's RollupStore on Cassandra (schema and layout: cassandra-schema.ts).
 *
 * Consistency: LOCAL_QUORUM for every read and write (set as the client default). Reads then see
 * every acknowledged write (R + W > RF) within the data centre; with the RF 1 of the dev stack
 * it is the same as ONE. The aggregator reads its own commits back (checkpoint, buckets,
 * sessions, seen IDs), so it needs read-your-writes; ONE would not give it for RF > 1.
 *
 * The store is composed of one module per job: the commit protocol (checkpoint, claim, commit:
 * all-or-nothing and fenced, cassandra-commit.ts) and the statements it writes
 * (cassandra-commit-statements.ts), the reads (cassandra-reads.ts), pruning and tenant deletion
 * (cassandra-expiry.ts), the CQL text (cassandra-cql.ts) and the row layout (cassandra-rows.ts).
 */
import type cassandra from 'cassandra-driver';
import type { RollupStore } from '../../../core/ports/index.ts';
import { rollupCql } from './cassandra-cql.ts';
import { createCommitProtocol, type CommitStats } from './cassandra-commit.ts';
import { deleteTrackingIdRollups, pruneKind } from './cassandra-expiry.ts';
import { createRollupReads } from './cassandra-reads.ts';
import { withTimeout } from '../../../core/async.ts';

export type { CommitStats } from './cassandra-commit.ts';

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

export interface CassandraRollupStore extends RollupStore {
  ping(timeoutMs?: number): Promise<boolean>;
  /** How the last commit was written (for benchmarks and logs). */
  lastCommit(): CommitStats | undefined;
}

export function createCassandraRollupStore(client: cassandra.Client, options: CassandraRollupStoreOptions): CassandraRollupStore {
  const Q = rollupCql(options.keyspace);
  const concurrency = options.concurrency ?? 32;
  const commits = createCommitProtocol(client, Q, {
    chunkBytes: options.pendingChunkBytes ?? 512 * 1024,
    concurrency,
    ambiguousWaitMs: options.ambiguousCommitWaitMs ?? 15_000,
    seenTtl: Math.max(1, Math.ceil(options.seenTtlSeconds)),
    log: options.log ?? (() => {}),
  });
  const reads = createRollupReads(client, Q, concurrency);
  let closed = false;

  function assertOpen(): void {
    if (closed) throw new Error('The rollup store is closed. Open the storage again to use it.');
  }

  return {
    async deleteTrackingId(trackingId, range) {
      assertOpen();
      return deleteTrackingIdRollups(client, Q, concurrency, trackingId, range);
    },

    async checkpoint(partition) {
      assertOpen();
      return commits.checkpoint(partition);
    },

    async claim(partition) {
      assertOpen();
      return commits.claim(partition);
    },

    async commit(w) {
      assertOpen();
      return commits.commit(w);
    },

    async getBuckets(keys) {
      assertOpen();
      return reads.getBuckets(keys);
    },

    async getSessions(keys) {
      assertOpen();
      return reads.getSessions(keys);
    },

    async seenEventIds(trackingId, eventIds) {
      assertOpen();
      return reads.seenEventIds(trackingId, eventIds);
    },

    async readTotals(trackingId, granularity, from, to) {
      assertOpen();
      return reads.readTotals(trackingId, granularity, from, to);
    },

    async readBreakdown(trackingId, granularity, from, to, dimension) {
      assertOpen();
      return reads.readBreakdown(trackingId, granularity, from, to, dimension);
    },

    async prune(before, seenBefore) {
      assertOpen();
      await pruneKind(client, Q, concurrency, 'seen', seenBefore);
      await pruneKind(client, Q, concurrency, 'session', before);
    },

    async ping(timeoutMs = 2000) {
      try {
        await withTimeout(client.execute('SELECT release_version FROM system.local', [], { prepare: true }), timeoutMs);
        return true;
      } catch {
        return false;
      }
    },

    lastCommit: () => commits.lastCommit(),

    async close() {
      closed = true;
    },
  };
}
