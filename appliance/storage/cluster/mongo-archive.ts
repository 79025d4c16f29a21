/**
 * The cluster profile's RawArchive on MongoDB, written for what FerretDB v1 also supports:
 * unique _id, a compound index, unordered insertMany, simple finds with sort and limit,
 * countDocuments and deleteMany. No TTL indexes, no transactions, no aggregation.
 *
 * - `_id` is the eventId, so the archive is idempotent by construction: a second insert of the
 *   same event fails with a duplicate key error (11000) that is counted, not thrown.
 * - Scans go in (ts, _id) order, paged by keyset (the last page's ts and _id), never by skip,
 *   so pages stay cheap deep into a range and events sharing a timestamp are neither lost nor repeated.
 * - `props` is stored as a JSON string: prop keys may hold '.' or start with '$', which
 *   FerretDB rejects as field names (and MongoDB only half supports).
 */
import { MongoBulkWriteError, type Collection, type Db, type Filter } from 'mongodb';
import type { EnrichedEvent } from '../../../core/event.ts';
import type { ArchiveQuery, RawArchive } from '../../../core/ports/index.ts';

export const RAW_EVENTS = 'raw_events';

/** Insert this many documents per insertMany call. */
const INSERT_CHUNK = 1000;
const DEFAULT_PAGE = 1000;

type StoredEvent = Omit<EnrichedEvent, 'eventId' | 'props'> & { _id: string; props: string };

export async function createMongoArchive(db: Db): Promise<RawArchive & { collection: Collection<StoredEvent> }> {
  const collection = db.collection<StoredEvent>(RAW_EVENTS);
  await collection.createIndex({ trackingId: 1, ts: 1 }, { name: 'trackingId_ts' });
  let closed = false;
  const assertOpen = () => {
    if (closed) throw new Error('The raw archive is closed. Open the storage again to use it.');
  };

  const rangeFilter = (q: ArchiveQuery): Filter<StoredEvent> => ({
    trackingId: q.trackingIds.length === 1 ? q.trackingIds[0] : { $in: q.trackingIds },
    ts: { $gte: q.from, $lt: q.to },
  });

  return {
    collection,

    async insert(events) {
      assertOpen();
      let inserted = 0;
      let duplicates = 0;
      for (let i = 0; i < events.length; i += INSERT_CHUNK) {
        const docs = events.slice(i, i + INSERT_CHUNK).map(toDocument);
        try {
          const r = await collection.insertMany(docs, { ordered: false });
          inserted += r.insertedCount;
        } catch (err) {
          const dup = duplicateCount(err);
          if (dup === undefined) throw err;
          // Unordered: every other document was inserted.
          duplicates += dup;
          inserted += docs.length - dup;
        }
      }
      return { inserted, duplicates };
    },

    async *scan(query, pageSize = DEFAULT_PAGE) {
      assertOpen();
      if (query.trackingIds.length === 0 || query.from >= query.to) return;
      const size = Math.max(1, Math.floor(pageSize));
      const base = rangeFilter(query);
      let after: { ts: number; id: string } | undefined;
      for (;;) {
        const filter: Filter<StoredEvent> = after
          ? { ...base, $or: [{ ts: { $gt: after.ts } }, { ts: after.ts, _id: { $gt: after.id } }] }
          : base;
        const docs = await collection.find(filter).sort({ ts: 1, _id: 1 }).limit(size).toArray();
        if (docs.length === 0) return;
        const last = docs[docs.length - 1];
        after = { ts: last.ts, id: last._id };
        yield docs.map(fromDocument);
        if (docs.length < size) return;
      }
    },

    async count(query) {
      assertOpen();
      if (query.trackingIds.length === 0 || query.from >= query.to) return 0;
      return collection.countDocuments(rangeFilter(query));
    },

    async deleteBefore(trackingId, before) {
      assertOpen();
      const r = await collection.deleteMany({ trackingId, ts: { $lt: before } });
      return r.deletedCount;
    },

    async close() {
      closed = true;
    },
  };
}

function toDocument(e: EnrichedEvent): StoredEvent {
  const { eventId, props, ...rest } = e;
  return { _id: eventId, ...rest, props: JSON.stringify(props) };
}

function fromDocument(d: StoredEvent): EnrichedEvent {
  const { _id, props, ...rest } = d;
  return { eventId: _id, ...rest, props: JSON.parse(props) as EnrichedEvent['props'] };
}

/** How many duplicate-key errors a failed unordered insert holds; undefined if any other error. */
function duplicateCount(err: unknown): number | undefined {
  if (!(err instanceof MongoBulkWriteError)) return (err as { code?: number })?.code === 11000 ? 1 : undefined;
  const raw = err.writeErrors as unknown;
  const list = (Array.isArray(raw) ? raw : raw ? [raw] : []) as { code?: number }[];
  if (list.length === 0 || list.some((w) => w.code !== 11000)) return undefined;
  return list.length;
}
