/**
 * Behaviour of the embedded adapters that the port contracts do not cover: the file itself
 * (migrations, reopening, a second process), group commit, log retention, transaction rollback.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import type { EnrichedEvent } from '../../../core/event.ts';
import { partitionFor, type LogRecord } from '../../../core/ports/index.ts';
import { openEmbeddedStorage } from './index.ts';
import { openDatabase } from './database.ts';
import { createEmbeddedEventLog } from './event-log.ts';
import { MIGRATIONS } from './schema.ts';
import { sampleEvent } from '../../../tests/support/events.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'almanac-embedded-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));
const file = () => path.join(dir, `${randomUUID()}.sqlite`);
const events = (site: string, n: number): EnrichedEvent[] => Array.from({ length: n }, (_, i) => sampleEvent(site, Date.UTC(2030, 0, 1) + i));

async function waitFor(what: string, check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('the data file', () => {
  test('is created with WAL, synchronous=NORMAL and every migration recorded', async () => {
    const s = openEmbeddedStorage({ path: file(), partitions: 2 });
    try {
      assert.equal(s.db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(s.db.pragma('synchronous', { simple: true }), 1);
      assert.equal(s.db.pragma('foreign_keys', { simple: true }), 1);
      const versions = s.db.prepare('SELECT version FROM schema_version ORDER BY version').pluck().all();
      assert.deepEqual(versions, MIGRATIONS.map((m) => m.version));
    } finally {
      await s.close();
    }
  });

  test('keeps records, offsets and committed offsets across a reopen', async () => {
    const f = file();
    const site = 'reopen-site';
    const p = partitionFor(site, 4);
    const a = openEmbeddedStorage({ path: f, partitions: 4 });
    await a.eventLog.append(events(site, 5));
    const got: LogRecord[] = [];
    const sub = await a.eventLog.subscribe({ group: 'g', onBatch: async (b) => void got.push(...b.records) });
    await waitFor('5 records', () => got.length === 5);
    await sub.stop();
    await a.close();

    const b = openEmbeddedStorage({ path: f, partitions: 4 });
    try {
      assert.equal((await b.eventLog.endOffsets())[p], 5);
      assert.equal((await b.eventLog.committedOffsets('g'))[p], 5);
      assert.equal((await b.eventLog.read(p, 0, 10)).length, 5);
    } finally {
      await b.close();
    }
  });

  test('refuses a different partition count than it was created with', async () => {
    const f = file();
    await openEmbeddedStorage({ path: f, partitions: 4 }).close();
    assert.throws(() => openEmbeddedStorage({ path: f, partitions: 8 }), /created with 4 event log partitions.*Set partitions back to 4/);
  });

  test('refuses a file written by a newer schema', async () => {
    const f = file();
    await openEmbeddedStorage({ path: f, partitions: 1 }).close();
    const raw = new Database(f);
    raw.prepare('INSERT INTO schema_version (version, description, applied_at) VALUES (999, ?, 0)').run('from the future');
    raw.close();
    assert.throws(() => openEmbeddedStorage({ path: f, partitions: 1 }), /schema version 999, newer than this Almanac knows/);
  });
});

describe('event log (embedded)', () => {
  test('appends made in the same tick share one commit, and all resolve after it', async () => {
    const s = openEmbeddedStorage({ path: file(), partitions: 4 });
    try {
      const before = s.eventLog.commitStats.commits;
      await Promise.all(Array.from({ length: 100 }, (_, i) => s.eventLog.append(events(`site-${i % 7}`, 1))));
      assert.equal(s.eventLog.commitStats.commits - before, 1);
      const ends = await s.eventLog.endOffsets();
      assert.equal(ends.reduce((a, b) => a + b, 0), 100);
    } finally {
      await s.close();
    }
  });

  test('an append that cannot be stored fails alone, not the appends sharing its commit', async () => {
    const s = openEmbeddedStorage({ path: file(), partitions: 1 });
    try {
      const [bad] = events('bad', 1);
      (bad.props as Record<string, unknown>).n = 10n; // JSON cannot encode a BigInt
      const results = await Promise.allSettled([s.eventLog.append(events('good', 1)), s.eventLog.append([bad]), s.eventLog.append(events('good', 1))]);
      assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
      assert.deepEqual(await s.eventLog.endOffsets(), [2]);
    } finally {
      await s.close();
    }
  });

  test('close() writes appends still waiting for their commit', async () => {
    const f = file();
    const s = openEmbeddedStorage({ path: f, partitions: 1 });
    const pending = s.eventLog.append(events('closing', 3));
    await s.close();
    await pending;
    await assert.rejects(s.eventLog.append(events('closing', 1)), /closed/);
    const again = openEmbeddedStorage({ path: f, partitions: 1 });
    assert.deepEqual(await again.eventLog.endOffsets(), [3]);
    await again.close();
  });

  test('a subscriber sees appends made by another connection (another process) by polling', async () => {
    const f = file();
    const consumer = openEmbeddedStorage({ path: f, partitions: 2, pollIntervalMs: 20 });
    const producer = openEmbeddedStorage({ path: f, partitions: 2 });
    const got: LogRecord[] = [];
    const sub = await consumer.eventLog.subscribe({ group: 'g', onBatch: async (b) => void got.push(...b.records) });
    try {
      await producer.eventLog.append(events('elsewhere', 4));
      await consumer.eventLog.append(events('here', 2));
      await producer.eventLog.append(events('elsewhere', 4));
      await waitFor('10 records', () => got.length === 10);
      // Offsets stay dense per partition when two connections append.
      for (let p = 0; p < 2; p++) {
        const offsets = got.filter((r) => r.partition === p).map((r) => r.offset);
        assert.deepEqual(offsets, offsets.map((_, i) => i));
      }
    } finally {
      await sub.stop();
      await producer.close();
      await consumer.close();
    }
  });

  test('one member per group in a process', async () => {
    const s = openEmbeddedStorage({ path: file(), partitions: 1 });
    try {
      const sub = await s.eventLog.subscribe({ group: 'g', onBatch: async () => {} });
      await assert.rejects(s.eventLog.subscribe({ group: 'g', onBatch: async () => {} }), /already has a member/);
      await sub.stop();
      const again = await s.eventLog.subscribe({ group: 'g', onBatch: async () => {} });
      await again.stop();
    } finally {
      await s.close();
    }
  });

  test('trim deletes only what every group consumed and what is older than the retention', async () => {
    let clock = Date.UTC(2030, 0, 1);
    const db = openDatabase({ path: file() });
    const log = createEmbeddedEventLog(db, { partitions: 1, retentionMs: 1000, now: () => clock });
    // Stands in for consumers that processed up to `offset`.
    const setCommitted = (group: string, offset: number) =>
      db.prepare('UPDATE log_group_offsets SET next_offset = ? WHERE group_name = ?').run(offset, group);
    try {
      await log.append(events('trim', 10)); // appended at t
      clock += 5000;
      await log.append(events('trim', 10)); // appended at t + 5 s
      assert.equal(await log.trim(), 0, 'no group registered: nothing was consumed');

      // Subscribing registers a group; the offsets are then set explicitly.
      for (const group of ['fast', 'slow', 'gone']) {
        const sub = await log.subscribe({ group, onBatch: async () => {} });
        await sub.stop();
        setCommitted(group, 0);
      }
      setCommitted('fast', 20);
      setCommitted('slow', 4);
      assert.equal(await log.trim(), 0, 'a group that never comes back holds everything');
      await log.forgetGroup('gone');
      assert.equal(await log.trim(), 4, 'held back by the slow group');
      setCommitted('slow', 20);
      assert.equal(await log.trim(), 6, 'the second 10 are younger than the retention');
      clock += 5000;
      assert.equal(await log.trim(), 10);
      assert.deepEqual(await log.endOffsets(), [20], 'end offsets survive an empty partition');
      assert.deepEqual(await log.read(0, 0, 5), []);

      await log.append(events('trim', 1));
      assert.equal((await log.read(0, 0, 5))[0].offset, 20, 'offsets continue after a trim');
    } finally {
      await log.close();
      db.close();
    }
  });
});

describe('rollup store (embedded)', () => {
  test('a commit that fails part-way leaves nothing behind, not even the checkpoint', async () => {
    const s = openEmbeddedStorage({ path: file(), partitions: 1 });
    try {
      const totals = { pageviews: 1, events: 0, visits: 1, bounces: 1, durationMs: 0, conversions: 0, revenue: {}, visitors: new Uint8Array([1, 2, 3]) };
      const row = { ...totals, dimension: 'page' as const, value: '/same' };
      await assert.rejects(
        s.rollups.commit({
          partition: 7, nextOffset: 99,
          sessions: [],
          seen: [{ trackingId: 'atomic', eventId: 'e1', at: 1 }],
          // The same (dimension, value) twice in one bucket violates the key: the second insert fails.
          buckets: [{ trackingId: 'atomic', granularity: 'hour', start: 0, logicVersion: 1, totals, breakdowns: [row, row] }],
        }),
      );
      assert.equal(await s.rollups.checkpoint(7), 0);
      assert.deepEqual(await s.rollups.getBuckets([{ trackingId: 'atomic', granularity: 'hour', start: 0 }]), []);
      assert.deepEqual(await s.rollups.seenEventIds('atomic', ['e1']), new Set());
    } finally {
      await s.close();
    }
  });
});
