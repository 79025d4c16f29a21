/**
 * Ingest counters on MongoDB / FerretDB (collection `ingest_counts`): the Registry's
 * addIngestCounts and ingestCounts.
 *
 * FerretDB v1 does not make a concurrent `$inc` atomic (measured: 50 concurrent `$inc` of one
 * document on FerretDB 1.24 / SQLite left it at 5, and a compare-and-set loop lost updates too).
 * So no document is ever updated by two writers at once: each Registry instance has its own
 * writer ID and owns the documents `<trackingId>|<day>|<writer>`; its updates of one document are
 * queued in process. A day's counts are the sum over the writers that counted that day (a handful
 * of documents per site and day: one per process lifetime). On MongoDB proper the same scheme is
 * simply correct too.
 */
import { randomUUID } from 'node:crypto';
import type { Db, UpdateFilter } from 'mongodb';
import type { Registry } from '../../../core/ports/index.ts';

interface CountDoc {
  _id: string;
  trackingId: string;
  day: number;
  writer: string;
  c: Record<string, number>;
}

export interface MongoIngestCounts extends Pick<Registry, 'addIngestCounts' | 'ingestCounts'> {
  /** Waits for the updates in flight. */
  settle(): Promise<void>;
}

export async function createMongoIngestCounts(db: Db, assertOpen: () => void): Promise<MongoIngestCounts> {
  const counts = db.collection<CountDoc>('ingest_counts');
  await counts.createIndex({ trackingId: 1, day: 1 }, { name: 'trackingId_day' });
  const writer = randomUUID().slice(0, 12);
  const countQueues = new Map<string, Promise<void>>();

  return {
    async addIngestCounts(trackingId, day, add) {
      assertOpen();
      const inc: Record<string, number> = {};
      for (const [name, n] of Object.entries(add)) if (n !== 0) inc[`c.${encodeField(name)}`] = n;
      if (Object.keys(inc).length === 0) return;
      const _id = `${trackingId}|${day}|${writer}`;
      const previous = countQueues.get(_id) ?? Promise.resolve();
      const mine = previous.catch(() => {}).then(async () => {
        await counts.updateOne(
          { _id },
          { $inc: inc, $setOnInsert: { trackingId, day, writer } } as unknown as UpdateFilter<CountDoc>,
          { upsert: true },
        );
      });
      countQueues.set(_id, mine);
      try {
        await mine;
      } finally {
        if (countQueues.get(_id) === mine) countQueues.delete(_id);
      }
    },

    async ingestCounts(trackingId, fromDay, toDay) {
      assertOpen();
      const out: Record<string, number> = {};
      for (const d of await counts.find({ trackingId, day: { $gte: fromDay, $lt: toDay } }).toArray()) {
        for (const [field, n] of Object.entries(d.c ?? {})) {
          const name = decodeField(field);
          out[name] = (out[name] ?? 0) + n;
        }
      }
      return out;
    },

    async settle() {
      await Promise.all([...countQueues.values()].map((p) => p.catch(() => {})));
    },
  };
}

/** Counter names become field names: '.', '$' and '%' are escaped (FerretDB rejects the first two). */
function encodeField(name: string): string {
  return name.replace(/%/g, '%25').replace(/\./g, '%2E').replace(/\$/g, '%24');
}
function decodeField(field: string): string {
  return field.replace(/%2E/g, '.').replace(/%24/g, '$').replace(/%25/g, '%');
}
