/**
 * Daily salts on MongoDB (collection `daily_salts`, one document per UTC day, `_id` = the day in
 * ms): the SaltRegistry methods, spread into the Mongo Registry.
 *
 * Create-once is an insert on the unique `_id` then a read: a duplicate-key error (11000) means
 * another collector won, and its salt is what we read. No transaction and no TTL index, so it
 * works on FerretDB v1; the maintenance deletes old days.
 */
import type { Db } from 'mongodb';
import type { SaltRegistry } from '../../../core/ports/index.ts';

interface SaltDoc {
  _id: number;
  salt: string;
  createdAt: number;
}

export function createMongoSalts(db: Db, now: () => number): SaltRegistry {
  const salts = db.collection<SaltDoc>('daily_salts');
  const read = async (day: number) => (await salts.findOne({ _id: day }))?.salt;

  return {
    async getOrCreateDailySalt(day, candidate) {
      const stored = await read(day);
      if (stored !== undefined) return stored;
      try {
        await salts.insertOne({ _id: day, salt: candidate, createdAt: now() });
      } catch (err) {
        if ((err as { code?: number }).code !== 11000) throw err;
      }
      const winner = await read(day);
      if (winner === undefined) throw new Error(`The salt of ${new Date(day).toISOString().slice(0, 10)} was deleted while it was being created; retry.`);
      return winner;
    },
    async deleteDailySaltsBefore(day) {
      return (await salts.deleteMany({ _id: { $lt: day } })).deletedCount;
    },
    async listDailySaltDays() {
      return (await salts.find({}, { projection: { _id: 1 } }).sort({ _id: 1 }).toArray()).map((d) => d._id);
    },
  };
}
