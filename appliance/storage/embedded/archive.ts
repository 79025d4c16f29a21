/**
 * The raw archive on SQLite: every accepted event once, by eventId, for replays and exports.
 */
import type { EnrichedEvent } from '../../../core/event.ts';
import type { ArchiveQuery, RawArchive } from '../../../core/ports/index.ts';
import type { SqliteDatabase } from './database.ts';
import { decodeEvent, encodeEvent } from './payload-codec.ts';

interface Row {
  event_id: string;
  ts: number;
  payload: string;
}

const DEFAULT_PAGE = 1000;

export function createEmbeddedArchive(db: SqliteDatabase): RawArchive {
  const insertOne = db.prepare('INSERT OR IGNORE INTO archive_events (event_id, tracking_id, ts, payload) VALUES (?, ?, ?, ?)');
  // Keyset pagination: (ts, event_id) > cursor walks archive_events_by_time without an OFFSET rescan.
  const pageAfter = db.prepare<[string, number, string, number, number], Row>(
    `SELECT event_id, ts, payload FROM archive_events
     WHERE tracking_id = ? AND (ts, event_id) > (?, ?) AND ts < ?
     ORDER BY ts, event_id LIMIT ?`,
  );
  const countOne = db.prepare<[string, number, number], { n: number }>(
    'SELECT COUNT(*) AS n FROM archive_events WHERE tracking_id = ? AND ts >= ? AND ts < ?',
  );
  const deleteOld = db.prepare('DELETE FROM archive_events WHERE tracking_id = ? AND ts < ?');

  const insertTx = db.transaction((events: readonly EnrichedEvent[]) => {
    let inserted = 0;
    for (const e of events) inserted += insertOne.run(e.eventId, e.trackingId, e.ts, encodeEvent(e)).changes;
    return inserted;
  });

  let closed = false;
  function assertOpen(): void {
    if (closed) throw new Error('The raw archive is closed. Open the storage again to use it.');
  }

  /**
   * One tracking ID's events in (ts, event_id) order, fetched a page at a time. Each page is a
   * fresh `.all()`: a statement held open across awaits would keep the shared connection busy.
   */
  function* cursor(trackingId: string, from: number, to: number, pageSize: number): Generator<Row[], void, void> {
    // Starting after (from, '') takes every event at `from`: event IDs are never empty.
    let ts = from;
    let id = '';
    for (;;) {
      assertOpen();
      const rows = pageAfter.all(trackingId, ts, id, to, pageSize);
      if (rows.length === 0) return;
      yield rows;
      const last = rows[rows.length - 1];
      ts = last.ts;
      id = last.event_id;
      if (rows.length < pageSize) return;
    }
  }

  return {
    async insert(events) {
      assertOpen();
      const inserted = insertTx.immediate(events);
      return { inserted, duplicates: events.length - inserted };
    },

    async *scan(query: ArchiveQuery, pageSize = DEFAULT_PAGE) {
      assertOpen();
      const size = Math.max(1, Math.floor(pageSize));
      const ids = [...new Set(query.trackingIds)];
      if (ids.length === 0 || query.from >= query.to) return;
      // A k-way merge of per-site cursors, so each site reads its own index range in order
      // instead of SQLite sorting the whole remaining range of every site for every page.
      const heads = ids.map((id) => ({ pages: cursor(id, query.from, query.to, size), buffer: [] as Row[], pos: 0, done: false }));
      const refill = (h: (typeof heads)[number]) => {
        if (h.pos < h.buffer.length || h.done) return;
        const next = h.pages.next();
        if (next.done) h.done = true;
        else {
          h.buffer = next.value;
          h.pos = 0;
        }
      };
      let page: EnrichedEvent[] = [];
      for (;;) {
        let best: (typeof heads)[number] | undefined;
        for (const h of heads) {
          refill(h);
          if (h.done && h.pos >= h.buffer.length) continue;
          const r = h.buffer[h.pos];
          if (!best) best = h;
          else {
            const b = best.buffer[best.pos];
            if (r.ts < b.ts || (r.ts === b.ts && r.event_id < b.event_id)) best = h;
          }
        }
        if (!best) break;
        page.push(decodeEvent(best.buffer[best.pos++].payload));
        if (page.length === size) {
          yield page;
          page = [];
        }
      }
      if (page.length > 0) yield page;
    },

    async count(query) {
      assertOpen();
      let n = 0;
      for (const id of new Set(query.trackingIds)) n += countOne.get(id, query.from, query.to)!.n;
      return n;
    },

    async deleteBefore(trackingId, before) {
      assertOpen();
      return deleteOld.run(trackingId, before).changes;
    },

    async close() {
      closed = true;
    },
  };
}
