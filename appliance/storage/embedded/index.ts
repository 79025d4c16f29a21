/**
 * The embedded profile's storage: every port on one SQLite file, plus the in-process cache.
 */
import type { Cache, RawArchive, Registry, RollupStore } from '../../../core/ports/index.ts';
import { createMemoryCache } from '../memory-cache.ts';
import { createEmbeddedArchive } from './archive.ts';
import { openDatabase, type SqliteDatabase } from './database.ts';
import { createEmbeddedEventLog, type EmbeddedEventLog } from './event-log.ts';
import { createEmbeddedRegistry } from './registry.ts';
import { createEmbeddedRollupStore } from './rollup-store.ts';

export type { EmbeddedEventLog } from './event-log.ts';

export interface EmbeddedStorageOptions {
  /** The data file, e.g. /var/lib/almanac/almanac.db. Its directory is created if missing. */
  path: string;
  /** Event log partitions; fixed when the file is created. */
  partitions: number;
  /** See OpenDatabaseOptions.synchronous. Default 'NORMAL'. */
  synchronous?: 'NORMAL' | 'FULL';
  busyTimeoutMs?: number;
  /** Event log retention used by eventLog.trim(); default 7 days. */
  logRetentionMs?: number;
  /** See GroupCommitOptions.windowMs; default 0 (next event-loop turn). */
  groupCommitWindowMs?: number;
  /** Idle consumers poll for other processes' appends this often; default 200 ms. */
  pollIntervalMs?: number;
  /** Default 100 000. */
  cacheMaxEntries?: number;
  onError?: (err: unknown, context: string) => void;
}

export interface EmbeddedStorage {
  eventLog: EmbeddedEventLog;
  archive: RawArchive;
  rollups: RollupStore;
  registry: Registry;
  cache: Cache;
  /** The connection, for tools (backup, inspection). Adapters own the schema: do not write to it. */
  db: SqliteDatabase;
  /** Flushes pending appends, stops subscriptions, closes the file. */
  close(): Promise<void>;
}

export function openEmbeddedStorage(options: EmbeddedStorageOptions): EmbeddedStorage {
  const db = openDatabase({ path: options.path, synchronous: options.synchronous, busyTimeoutMs: options.busyTimeoutMs });
  try {
    const eventLog = createEmbeddedEventLog(db, {
      partitions: options.partitions,
      retentionMs: options.logRetentionMs,
      groupCommitWindowMs: options.groupCommitWindowMs,
      pollIntervalMs: options.pollIntervalMs,
      onError: options.onError,
    });
    const archive = createEmbeddedArchive(db);
    const rollups = createEmbeddedRollupStore(db);
    const registry = createEmbeddedRegistry(db);
    const cache = createMemoryCache({ maxEntries: options.cacheMaxEntries ?? 100_000 });
    let closing: Promise<void> | undefined;
    return {
      eventLog,
      archive,
      rollups,
      registry,
      cache,
      db,
      close() {
        closing ??= (async () => {
          await eventLog.close();
          await Promise.all([archive.close(), rollups.close(), registry.close(), cache.close()]);
          // Folds the WAL back into the main file so the file can be copied alone.
          try {
            db.pragma('wal_checkpoint(TRUNCATE)');
          } catch {
            // Another process is reading; its own close will checkpoint.
          }
          db.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    db.close();
    throw err;
  }
}
