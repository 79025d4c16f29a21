/**
 * Contract of the RawArchive port (SQLite, MongoDB): idempotent by eventId, scans in time order.
 * Each test uses its own tracking IDs.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { EnrichedEvent } from '../../core/event.ts';
import type { ArchiveQuery, RawArchive } from '../../core/ports/index.ts';
import { makeEvent, unique, type Harness } from './fixtures.ts';

const T0 = Date.UTC(2030, 5, 1);

export function rawArchiveContract(name: string, make: () => Promise<Harness<RawArchive>>): void {
  describe(name, () => {
    let archive: RawArchive;
    let harness: Harness<RawArchive>;
    before(async () => {
      harness = await make();
      archive = harness.port;
    });
    after(async () => harness.cleanup());

    async function scanAll(query: ArchiveQuery, pageSize?: number): Promise<{ pages: EnrichedEvent[][]; events: EnrichedEvent[] }> {
      const pages: EnrichedEvent[][] = [];
      for await (const page of archive.scan(query, pageSize)) pages.push(page);
      return { pages, events: pages.flat() };
    }
    const at = (trackingId: string, offsets: number[]) => offsets.map((o) => makeEvent({ trackingId, ts: T0 + o }));

    test('insert is idempotent by eventId and counts duplicates', async () => {
      const site = unique('idem');
      const events = at(site, [1, 2, 3]);
      assert.deepEqual(await archive.insert(events), { inserted: 3, duplicates: 0 });
      assert.deepEqual(await archive.insert(events), { inserted: 0, duplicates: 3 });
      const more = at(site, [4]);
      assert.deepEqual(await archive.insert([events[0], ...more]), { inserted: 1, duplicates: 1 });
      assert.deepEqual(await archive.insert([]), { inserted: 0, duplicates: 0 });
      assert.equal(await archive.count({ trackingIds: [site], from: T0, to: T0 + 100 }), 4);
    });

    test('a duplicate inside one insert is stored once', async () => {
      const site = unique('dup-in-batch');
      const [e] = at(site, [1]);
      assert.deepEqual(await archive.insert([e, { ...e }]), { inserted: 1, duplicates: 1 });
      assert.equal(await archive.count({ trackingIds: [site], from: T0, to: T0 + 100 }), 1);
    });

    test('scan returns events whole, in time order, within [from, to)', async () => {
      const site = unique('order');
      const events = at(site, [50, 10, 30, 30, 0, 90, 100, 20]);
      events[1] = { ...events[1], revenue: { amount: 12.5, currency: 'EUR' }, type: 'event', name: 'purchase', props: { sku: 'A-1', qty: 2 } };
      await archive.insert(events);
      const { events: got } = await scanAll({ trackingIds: [site], from: T0 + 10, to: T0 + 100 });
      assert.deepEqual(got.map((e) => e.ts - T0), [10, 20, 30, 30, 50, 90]);
      assert.deepEqual(got[0], events[1], 'every field round-trips');
      assert.deepEqual(await scanAll({ trackingIds: [site], from: T0 + 60, to: T0 + 60 }).then((r) => r.events), []);
    });

    test('scan pages hold at most pageSize events and together hold each event once', async () => {
      const site = unique('paging');
      // Ties in time on purpose: paging must not lose or repeat events that share a timestamp.
      const events = at(site, [1, 1, 1, 2, 2, 3, 4, 4, 4, 4, 5]);
      await archive.insert(events);
      const { pages, events: got } = await scanAll({ trackingIds: [site], from: T0, to: T0 + 10 }, 3);
      for (const page of pages) assert.ok(page.length >= 1 && page.length <= 3, `page of ${page.length}`);
      assert.equal(got.length, events.length);
      assert.deepEqual(new Set(got.map((e) => e.eventId)), new Set(events.map((e) => e.eventId)));
      for (let i = 1; i < got.length; i++) assert.ok(got[i - 1].ts <= got[i].ts);
    });

    test('scan of several tracking IDs merges them in time order and leaves others out', async () => {
      const a = unique('merge-a');
      const b = unique('merge-b');
      const other = unique('merge-other');
      await archive.insert([...at(a, [1, 4, 7]), ...at(b, [2, 3, 8]), ...at(other, [5])]);
      const { events } = await scanAll({ trackingIds: [a, b], from: T0, to: T0 + 10 }, 2);
      assert.deepEqual(events.map((e) => `${e.trackingId === a ? 'a' : 'b'}${e.ts - T0}`), ['a1', 'b2', 'b3', 'a4', 'a7', 'b8']);
    });

    test('count respects tracking IDs and bounds', async () => {
      const a = unique('count-a');
      const b = unique('count-b');
      await archive.insert([...at(a, [0, 1, 2, 3]), ...at(b, [1, 2])]);
      assert.equal(await archive.count({ trackingIds: [a], from: T0 + 1, to: T0 + 3 }), 2);
      assert.equal(await archive.count({ trackingIds: [a, b], from: T0, to: T0 + 10 }), 6);
      assert.equal(await archive.count({ trackingIds: [unique('count-none')], from: T0, to: T0 + 10 }), 0);
    });

    test('deleteBefore removes one tracking ID\'s older events and says how many', async () => {
      const a = unique('del-a');
      const b = unique('del-b');
      const ofA = at(a, [1, 2, 3, 4]);
      await archive.insert([...ofA, ...at(b, [1, 2])]);
      assert.equal(await archive.deleteBefore(a, T0 + 3), 2);
      const { events } = await scanAll({ trackingIds: [a, b], from: T0, to: T0 + 10 });
      assert.deepEqual(events.filter((e) => e.trackingId === a).map((e) => e.ts - T0), [3, 4]);
      assert.equal(events.filter((e) => e.trackingId === b).length, 2);
      assert.equal(await archive.deleteBefore(a, T0 + 3), 0);
      // A deleted event is no longer a duplicate.
      assert.deepEqual(await archive.insert([ofA[0]]), { inserted: 1, duplicates: 0 });
    });
  });
}
