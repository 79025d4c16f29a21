/**
 * Versioned schema migrations, applied in code at open. The `schema_version` table records which
 * migrations ran; each migration runs in its own IMMEDIATE transaction so two processes opening
 * the same file at once cannot both apply it.
 */
import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  description: string;
  up(db: Database.Database): void;
}

export function migrate(db: Database.Database, migrations: readonly Migration[]): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_version (
    version     INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at  INTEGER NOT NULL
  )`);
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  sorted.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`Bug: migration versions must be 1..n without gaps; found ${m.version} at position ${i + 1}`);
  });
  const latest = sorted.length;
  const current = () => (db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_version').get() as { v: number }).v;

  const found = current();
  if (found > latest) {
    throw new Error(`The data file has schema version ${found}, newer than this Almanac knows (${latest}). Run the Almanac version that wrote it, or restore a backup made for this version.`);
  }
  for (const m of sorted) {
    db.transaction(() => {
      // Re-read inside the write lock: another process may have migrated meanwhile.
      if (current() >= m.version) return;
      m.up(db);
      db.prepare('INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)').run(m.version, m.description, Date.now());
    }).immediate();
  }
}

export function schemaVersion(db: Database.Database): number {
  return (db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_version').get() as { v: number }).v;
}
