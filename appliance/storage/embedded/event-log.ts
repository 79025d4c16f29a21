/**
 * The event log on SQLite: records per partition with dense offsets, appended by group commit,
 * consumed by groups that commit offsets in the same file.
 */
import { partitionFor, type EventLog, type LogRecord, type SubscribeOptions, type Subscription } from '../../../core/ports/index.ts';
import { DAY_MS } from '../../../core/time.ts';
import type { SqliteDatabase } from './database.ts';
import { createGroupCommitter, type GroupCommitter } from './group-commit.ts';
import { startConsumer, type ConsumerSource } from './consumer.ts';
import { decodeEvent, encodeEvent } from './payload-codec.ts';

export interface EmbeddedEventLogOptions {
  partitions: number;
  /** See GroupCommitOptions.windowMs. Default 0 (next event-loop turn). */
  groupCommitWindowMs?: number;
  maxEventsPerCommit?: number;
  /** Idle consumers look for appends from other processes this often. Default 200 ms. */
  pollIntervalMs?: number;
  /** Records younger than this are never trimmed. Default 7 days. */
  retentionMs?: number;
  /** Where errors of background loops go (a failing onBatch, a busy file). Default console.error. */
  onError?: (err: unknown, context: string) => void;
  now?: () => number;
}

export interface EmbeddedEventLog extends EventLog {
  /**
   * Deletes records that every registered group has consumed AND that are older than the
   * retention window (`olderThanMs`, default the configured retention). A group is registered from
   * its first subscribe on; a group that is never coming back keeps records until forgetGroup().
   * Works in chunks, yielding to the event loop between them. Returns how many records went.
   */
  trim(olderThanMs?: number): Promise<number>;
  /** Unregisters a consumer group (its offsets are gone, and it no longer holds back trim). */
  forgetGroup(group: string): Promise<void>;
  /** Group-commit counters, for measurement. */
  readonly commitStats: { commits: number; items: number };
}

const TRIM_CHUNK = 10_000;

interface AppendRow {
  partition: number;
  payload: string;
}

export function createEmbeddedEventLog(db: SqliteDatabase, options: EmbeddedEventLogOptions): EmbeddedEventLog {
  const partitions = options.partitions;
  const now = options.now ?? Date.now;
  const retentionMs = options.retentionMs ?? 7 * DAY_MS;
  const onError = options.onError ?? ((err, context) => console.error(`almanac event log: error while ${context}:`, err));
  ensurePartitions(db, partitions);

  const selectNext = db.prepare<[number], { next_offset: number }>('SELECT next_offset FROM log_partitions WHERE partition = ?');
  const updateNext = db.prepare('UPDATE log_partitions SET next_offset = ? WHERE partition = ?');
  const insertRecord = db.prepare('INSERT INTO log_records (partition, offset, appended_at, payload) VALUES (?, ?, ?, ?)');
  const selectRecords = db.prepare<[number, number, number], { offset: number; payload: string }>(
    'SELECT offset, payload FROM log_records WHERE partition = ? AND offset >= ? ORDER BY offset LIMIT ?',
  );
  const selectFirstFrom = db.prepare<[number, number], { offset: number; appended_at: number }>(
    'SELECT offset, appended_at FROM log_records WHERE partition = ? AND offset >= ? ORDER BY offset LIMIT 1',
  );
  const selectEnds = db.prepare<[], { partition: number; next_offset: number }>('SELECT partition, next_offset FROM log_partitions ORDER BY partition');
  const selectCommitted = db.prepare<[string], { partition: number; next_offset: number }>('SELECT partition, next_offset FROM log_group_offsets WHERE group_name = ?');
  const registerGroup = db.prepare('INSERT OR IGNORE INTO log_group_offsets (group_name, partition, next_offset, updated_at) VALUES (?, ?, 0, ?)');
  const upsertCommitted = db.prepare(
    `INSERT INTO log_group_offsets (group_name, partition, next_offset, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (group_name, partition) DO UPDATE SET next_offset = excluded.next_offset, updated_at = excluded.updated_at`,
  );
  const deleteGroup = db.prepare('DELETE FROM log_group_offsets WHERE group_name = ?');
  const selectMinCommitted = db.prepare<[number], { m: number | null }>('SELECT MIN(next_offset) AS m FROM log_group_offsets WHERE partition = ?');
  const trimChunk = db.prepare(
    `DELETE FROM log_records WHERE rowid IN (
       SELECT rowid FROM log_records WHERE partition = ? AND offset < ? AND appended_at < ? ORDER BY offset LIMIT ${TRIM_CHUNK})`,
  );

  // Per-partition listeners, woken after a commit that appended to their partition.
  const listeners: Set<() => void>[] = Array.from({ length: partitions }, () => new Set());

  // The next offset is read inside the IMMEDIATE transaction that writes, so two processes
  // appending to the same file serialize on the write lock and offsets stay dense.
  const appendTx = db.transaction((rows: AppendRow[]) => {
    const at = now();
    const next = new Map<number, number>();
    for (const { partition, payload } of rows) {
      let offset = next.get(partition);
      if (offset === undefined) offset = selectNext.get(partition)!.next_offset;
      insertRecord.run(partition, offset, at, payload);
      next.set(partition, offset + 1);
    }
    for (const [p, offset] of next) updateNext.run(offset, p);
    return [...next.keys()];
  });

  const committer: GroupCommitter<AppendRow> = createGroupCommitter<AppendRow>({
    windowMs: options.groupCommitWindowMs,
    maxItemsPerCommit: options.maxEventsPerCommit,
    write(rows) {
      let touched: number[];
      try {
        touched = appendTx.immediate(rows);
      } catch (err) {
        throw new Error(`Could not append ${rows.length} events to the event log: ${(err as Error).message}. ` +
          'If the file is busy, another process holds the write lock too long; if the disk is full, free space.', { cause: err });
      }
      for (const p of touched) for (const wake of listeners[p]) wake();
    },
  });

  function checkPartition(p: number): void {
    if (!Number.isInteger(p) || p < 0 || p >= partitions) {
      throw new RangeError(`Partition ${p} does not exist: the event log has partitions 0..${partitions - 1}.`);
    }
  }

  function readSync(partition: number, fromOffset: number, max: number): LogRecord[] {
    checkPartition(partition);
    const rows = selectRecords.all(partition, Math.max(0, Math.floor(fromOffset)), Math.max(0, Math.floor(max)));
    return rows.map((r) => ({ partition, offset: r.offset, event: decodeEvent(r.payload) }));
  }

  function committedSync(group: string): number[] {
    const offsets = new Array<number>(partitions).fill(0);
    for (const r of selectCommitted.all(group)) if (r.partition < partitions) offsets[r.partition] = r.next_offset;
    return offsets;
  }

  const source: ConsumerSource = {
    partitions,
    read: readSync,
    committed: committedSync,
    commit: (group, partition, nextOffset) => upsertCommitted.run(group, partition, nextOffset, now()),
    onAppend(partition, wake) {
      listeners[partition].add(wake);
      return () => listeners[partition].delete(wake);
    },
  };

  // In-process guard: two members of one group here would each own every partition and deliver twice.
  const activeGroups = new Map<string, Subscription>();
  let closed = false;

  function assertOpen(): void {
    if (closed) throw new Error('The event log is closed. Open the storage again to use it.');
  }

  return {
    partitions,
    get commitStats() {
      return { ...committer.stats };
    },

    append(events) {
      if (closed) return Promise.reject(new Error('The event log is closed; the events were not appended. Open the storage again.'));
      // Encoded here, in the caller's turn: an event that cannot be encoded fails only its own
      // append, not the others sharing the commit, and the write lock is held for less time.
      let rows: AppendRow[];
      try {
        rows = events.map((e) => ({ partition: partitionFor(e.trackingId, partitions), payload: encodeEvent(e) }));
      } catch (err) {
        return Promise.reject(err);
      }
      return committer.submit(rows);
    },

    async subscribe(opts: SubscribeOptions) {
      assertOpen();
      if (activeGroups.has(opts.group)) {
        throw new Error(`Group '${opts.group}' already has a member in this process. Stop that subscription first; in the embedded profile one member owns every partition.`);
      }
      let sub: Subscription | undefined;
      const member: Subscription = {
        async stop() {
          await sub?.stop();
          if (activeGroups.get(opts.group) === member) activeGroups.delete(opts.group);
        },
      };
      // Reserved before the first await, so a concurrent subscribe of the same group is refused.
      activeGroups.set(opts.group, member);
      try {
        db.transaction(() => {
          for (let p = 0; p < partitions; p++) registerGroup.run(opts.group, p, now());
        })();
        sub = await startConsumer(source, opts, {
          pollIntervalMs: options.pollIntervalMs ?? 200,
          retryMinMs: 100,
          retryMaxMs: 5000,
          onError,
        });
      } catch (err) {
        activeGroups.delete(opts.group);
        throw err;
      }
      return member;
    },

    async read(partition, fromOffset, max) {
      assertOpen();
      return readSync(partition, fromOffset, max);
    },

    async endOffsets() {
      assertOpen();
      return selectEnds.all().filter((r) => r.partition < partitions).map((r) => r.next_offset);
    },

    async committedOffsets(group) {
      assertOpen();
      return committedSync(group);
    },

    async offsetForTime(partition, ts) {
      assertOpen();
      checkPartition(partition);
      const end = selectNext.get(partition)!.next_offset;
      const first = selectFirstFrom.get(partition, 0);
      if (!first) return end;
      // Append times grow with the offset (appends serialize on the write lock): binary search
      // for the first offset from which the next retained record is at or after ts.
      let lo = first.offset;
      let hi = end;
      while (lo < hi) {
        const mid = Math.floor((lo + hi) / 2);
        const row = selectFirstFrom.get(partition, mid);
        if (!row || row.appended_at >= ts) hi = mid;
        else lo = mid + 1;
      }
      return selectFirstFrom.get(partition, lo)?.offset ?? end;
    },

    async earliest(partition) {
      assertOpen();
      checkPartition(partition);
      const first = selectFirstFrom.get(partition, 0);
      return first ? { offset: first.offset, time: first.appended_at } : { offset: selectNext.get(partition)!.next_offset, time: undefined };
    },

    async trim(olderThanMs = retentionMs) {
      assertOpen();
      const cutoff = now() - olderThanMs;
      let deleted = 0;
      for (let p = 0; p < partitions; p++) {
        for (;;) {
          const min = selectMinCommitted.get(p)?.m;
          if (min === null || min === undefined) break; // no group registered: nobody has consumed anything
          const n = trimChunk.run(p, min, cutoff).changes;
          deleted += n;
          if (n < TRIM_CHUNK) break;
          await new Promise((r) => setImmediate(r));
        }
      }
      return deleted;
    },

    async forgetGroup(group) {
      assertOpen();
      if (activeGroups.has(group)) throw new Error(`Group '${group}' is subscribed in this process; stop it before forgetting it.`);
      deleteGroup.run(group);
    },

    async close() {
      if (closed) return;
      // Closed first, so no append can slip in after the final flush and find the file gone.
      closed = true;
      await committer.flush();
      await Promise.all([...activeGroups.values()].map((s) => s.stop()));
    },
  };
}

/**
 * Creates the partition rows on first open and refuses a different partition count later:
 * partitionFor() would send a site's events to another partition than its earlier ones, breaking
 * per-site order and the aggregator's checkpoints.
 */
function ensurePartitions(db: SqliteDatabase, partitions: number): void {
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 1024) {
    throw new RangeError(`partitions must be an integer from 1 to 1024, got ${partitions}.`);
  }
  db.transaction(() => {
    const row = db.prepare<[], { value: string }>("SELECT value FROM almanac_meta WHERE key = 'log_partitions'").get();
    if (row && Number(row.value) !== partitions) {
      throw new Error(`The data file was created with ${row.value} event log partitions, but ${partitions} were configured. ` +
        `Set partitions back to ${row.value}; changing it needs an export and re-import of the log.`);
    }
    if (!row) {
      db.prepare("INSERT INTO almanac_meta (key, value) VALUES ('log_partitions', ?)").run(String(partitions));
      const insert = db.prepare('INSERT OR IGNORE INTO log_partitions (partition, next_offset) VALUES (?, 0)');
      for (let p = 0; p < partitions; p++) insert.run(p);
    }
  }).immediate();
}
