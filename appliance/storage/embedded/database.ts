/**
 * Opens the one SQLite file of the embedded profile with the pragmas every adapter relies on,
 * and brings its schema up to date. All embedded adapters share the connection this returns.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrate } from './migrate.ts';
import { MIGRATIONS } from './schema.ts';

export type SqliteDatabase = Database.Database;

export interface OpenDatabaseOptions {
  path: string;
  /**
   * 'NORMAL' (default): in WAL mode a commit survives a crash of the process but the last
   * commits may be lost on power loss or an OS crash; commits are ~100x cheaper than with 'FULL'.
   * 'FULL': every commit is fsynced before it returns.
   */
  synchronous?: 'NORMAL' | 'FULL';
  /** How long a writer waits for another process holding the write lock before failing, ms. */
  busyTimeoutMs?: number;
  /** Page cache per connection, MiB. */
  cacheMiB?: number;
}

export function openDatabase(options: OpenDatabaseOptions): SqliteDatabase {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  let db: SqliteDatabase;
  try {
    db = new Database(options.path);
  } catch (err) {
    throw new Error(`Almanac cannot open its data file ${options.path}: ${(err as Error).message}. Check that the directory exists and is writable by this user.`, { cause: err });
  }
  try {
    applyPragmas(db, options);
    migrate(db, MIGRATIONS);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

function applyPragmas(db: SqliteDatabase, options: OpenDatabaseOptions): void {
  // busy_timeout first: the journal_mode switch below needs the lock when another process has the file open.
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
  // WAL: readers never block the writer and a commit is one sequential append to the WAL.
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (options.path !== ':memory:' && String(mode).toLowerCase() !== 'wal') {
    throw new Error(`The data file ${options.path} cannot use WAL mode (got '${mode}'). Put it on a local file system (not NFS/SMB).`);
  }
  db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
  db.pragma('foreign_keys = ON');
  db.pragma('temp_store = MEMORY');
  // Negative cache_size is KiB.
  db.pragma(`cache_size = ${-1024 * Math.max(2, Math.floor(options.cacheMiB ?? 64))}`);
  // Memory-mapped reads avoid a copy per page for the rollup reads of the query service.
  db.pragma('mmap_size = 268435456');
  // After a checkpoint the WAL is truncated to this size instead of staying at its high-water mark.
  db.pragma('journal_size_limit = 67108864');
}
