/**
 * Daily salts on SQLite (table daily_salts, migration 7): the SaltRegistry methods, spread into
 * the embedded Registry. Create-once is INSERT OR IGNORE then a read, in one IMMEDIATE
 * transaction, so two processes on the file agree on the winner.
 */
import type { SaltRegistry } from '../../../core/ports/index.ts';
import type { SqliteDatabase } from './database.ts';

export function createEmbeddedSalts(db: SqliteDatabase, now: () => number): SaltRegistry {
  const insertIfAbsent = db.prepare('INSERT OR IGNORE INTO daily_salts (day, salt, created_at) VALUES (?, ?, ?)');
  const select = db.prepare<[number], { salt: string }>('SELECT salt FROM daily_salts WHERE day = ?');
  const deleteBefore = db.prepare('DELETE FROM daily_salts WHERE day < ?');
  const selectDays = db.prepare<[], { day: number }>('SELECT day FROM daily_salts ORDER BY day');
  const getOrCreateTx = db.transaction((day: number, candidate: string) => {
    insertIfAbsent.run(day, candidate, now());
    return select.get(day)!.salt;
  });

  return {
    async getOrCreateDailySalt(day, candidate) {
      return select.get(day)?.salt ?? getOrCreateTx.immediate(day, candidate);
    },
    async deleteDailySaltsBefore(day) {
      return deleteBefore.run(day).changes;
    },
    async listDailySaltDays() {
      return selectDays.all().map((r) => r.day);
    },
  };
}
