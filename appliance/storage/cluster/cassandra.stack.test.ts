/**
 * Cassandra rollup store behaviour beyond the port contract, on the native stack: migrations,
 * the redo-record commit path, and recovery from a crash on either side of its commit point.
 * Uses its own keyspace, dropped afterwards.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import cassandra from 'cassandra-driver';
import type { RollupCommit } from '../../../core/ports/index.ts';
import type { StoredBucket } from '../../../core/rollup/model.ts';
import { DIMENSIONS } from '../../../core/rollup/model.ts';
import { HOUR_MS } from '../../../core/time.ts';
import { MIGRATIONS, migrate } from './cassandra-schema.ts';
import { createCassandraRollupStore, type CassandraRollupStore } from './cassandra-rollup-store.ts';

const contactPoints = (process.env.ALMANAC_CASSANDRA_CONTACT_POINTS ?? '').split(',').filter(Boolean);
const T0 = Date.UTC(2030, 6, 1);

/** A commit about as large as an aggregator batch of ~2000 events. */
function largeCommit(site: string, partition: number, nextOffset: number): RollupCommit {
  const bucket = (granularity: 'hour' | 'day', start: number): StoredBucket => ({
    trackingId: site, granularity, start, logicVersion: 1,
    totals: { pageviews: 2000, events: 10, visits: 500, bounces: 100, durationMs: 9_000_000, conversions: 3, revenue: { EUR: 12_345 }, visitors: new Uint8Array(randomBytes(2048)) },
    breakdowns: DIMENSIONS.flatMap((dimension) => Array.from({ length: 20 }, (_, i) => ({
      dimension, value: `${dimension}-${i}`, pageviews: 100 - i, events: 0, visits: 10, bounces: 1, durationMs: 1000, conversions: 0, revenue: {}, visitors: new Uint8Array(randomBytes(64)),
    }))),
  });
  return {
    partition, nextOffset,
    buckets: [bucket('hour', T0), bucket('day', T0)],
    sessions: Array.from({ length: 500 }, (_, i) => ({
      trackingId: site, visitorId: `v${i}`, start: T0 + i, end: T0 + i + 60_000, firstEventId: `f${i}`, lastEventId: `l${i}`,
      entryPage: '/', exitPage: '/x', pageviews: 4, events: 0, source: '', utmSource: '', utmMedium: '', utmCampaign: '',
      country: 'DE', device: 'desktop', browser: 'Firefox', os: 'Linux',
    })),
    seen: Array.from({ length: 2000 }, (_, i) => ({ trackingId: site, eventId: `e${i}`, at: T0 + HOUR_MS })),
  };
}

describe('Cassandra rollup store (stack)', { skip: contactPoints.length === 0 && 'needs the native stack (ALMANAC_CASSANDRA_CONTACT_POINTS)' }, () => {
  const keyspace = `almanac_t_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
  let client: cassandra.Client;
  before(async () => {
    client = new cassandra.Client({
      contactPoints,
      localDataCenter: process.env.ALMANAC_CASSANDRA_DATACENTER ?? 'datacenter1',
      queryOptions: { consistency: cassandra.types.consistencies.localQuorum, prepare: true },
    });
    await client.connect();
  });
  after(async () => {
    await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => {});
    await client.shutdown();
  });

  const store = (c: cassandra.Client = client): CassandraRollupStore =>
    createCassandraRollupStore(c, { keyspace, seenTtlSeconds: 3600, ambiguousCommitWaitMs: 0 });

  test('migrations create the schema once; a second start applies nothing and keeps the data', async () => {
    const first = await migrate(client, { keyspace });
    assert.deepEqual(first.applied, MIGRATIONS.map((m) => m.version));
    await store().commit({ partition: 1, nextOffset: 7, buckets: [], sessions: [], seen: [] });
    const second = await migrate(client, { keyspace });
    assert.deepEqual(second.applied, []);
    assert.equal(second.version, first.version);
    const rows = (await client.execute(`SELECT version FROM ${keyspace}.schema_migrations`)).rows.map((r) => r.version as number);
    assert.deepEqual(rows.sort(), MIGRATIONS.map((m) => m.version));
    assert.equal(await store().checkpoint(1), 7);
  });

  test('a large commit goes behind a redo record and is visible whole', async (t) => {
    const s = store();
    const site = `large-${randomUUID().slice(0, 8)}`;
    const partition = randomInt(1000, 1_000_000);
    const w = largeCommit(site, partition, 2000);
    await s.commit(w);
    const stats = s.lastCommit()!;
    assert.equal(stats.path, 'redo');
    t.diagnostic(`large commit: ${stats.statements} statements, ~${Math.round(stats.estimatedBytes / 1024)} KiB, ${stats.ms} ms`);
    assert.equal(await s.checkpoint(partition), 2000);
    const buckets = await s.getBuckets(w.buckets);
    assert.equal(buckets.length, 2);
    assert.equal(buckets[0].breakdowns.length, DIMENSIONS.length * 20);
    assert.equal((await s.getSessions(w.sessions)).length, 500);
    assert.equal((await s.seenEventIds(site, w.seen.map((x) => x.eventId))).size, 2000);
    const pending = (await client.execute(`SELECT pending_ts FROM ${keyspace}.checkpoints WHERE partition = ?`, [partition])).first();
    assert.equal(pending.pending_ts, null, 'the redo mark is cleared');
  });

  test('a crash after the commit point is finished by the next reader of the checkpoint', async () => {
    const site = `crash-after-${randomUUID().slice(0, 8)}`;
    const partition = randomInt(1000, 1_000_000);
    await store().commit({ partition, nextOffset: 10, buckets: [], sessions: [], seen: [] });
    // Writes fail once the checkpoint row has been marked: the process "dies" while applying.
    const crashing = failingClient((query, marked) => marked && /^INSERT/.test(query.trim()));
    const w = largeCommit(site, partition, 4000);
    await assert.rejects(store(crashing.client).commit(w), /simulated crash/);
    assert.ok(crashing.marked(), 'the crash happened after the commit point');

    // Another node (a fresh store) takes the partition over.
    const next = store();
    assert.equal(await next.checkpoint(partition), 4000, 'the decided commit holds');
    assert.equal((await next.seenEventIds(site, w.seen.map((x) => x.eventId))).size, 2000, 'and all of its data');
    assert.equal((await next.getSessions(w.sessions)).length, 500);
    assert.equal((await next.getBuckets(w.buckets)).length, 2);
  });

  test('a crash before the commit point leaves no trace', async () => {
    const site = `crash-before-${randomUUID().slice(0, 8)}`;
    const partition = randomInt(1000, 1_000_000);
    await store().commit({ partition, nextOffset: 10, buckets: [], sessions: [], seen: [] });
    const crashing = failingClient((query) => query.includes('pending_commits') && query.trim().startsWith('INSERT'));
    const w = largeCommit(site, partition, 4000);
    await assert.rejects(store(crashing.client).commit(w), /simulated crash/);
    const next = store();
    assert.equal(await next.checkpoint(partition), 10);
    assert.equal((await next.seenEventIds(site, w.seen.map((x) => x.eventId))).size, 0);
    assert.deepEqual(await next.getBuckets(w.buckets), []);
  });

  test('commits of one partition carry increasing write timestamps, also from another store instance', async () => {
    const partition = randomInt(1000, 1_000_000);
    const a = store();
    await a.commit({ partition, nextOffset: 1, buckets: [], sessions: [], seen: [] });
    const ts1 = await writeTs(partition);
    const b = store();
    await b.commit({ partition, nextOffset: 2, buckets: [], sessions: [], seen: [] });
    const ts2 = await writeTs(partition);
    assert.ok(ts2 > ts1);
    assert.equal(await a.checkpoint(partition), 2);
  });

  async function writeTs(partition: number): Promise<number> {
    const row = (await client.execute(`SELECT WRITETIME(next_offset) AS wt FROM ${keyspace}.checkpoints WHERE partition = ?`, [partition])).first();
    return Number(row.wt);
  }

  /** The real client, except that execute() throws once `fail` says so. */
  function failingClient(fail: (query: string, marked: boolean) => boolean): { client: cassandra.Client; marked: () => boolean } {
    let marked = false;
    const proxy = new Proxy(client, {
      get(target, prop, receiver) {
        if (prop === 'execute') {
          return async (query: string, params?: unknown, options?: cassandra.QueryOptions) => {
            if (fail(query, marked)) throw new Error('simulated crash');
            const r = await target.execute(query, params as cassandra.ArrayOrObject, options);
            if (query.includes('pending_ts = ?')) marked = true;
            return r;
          };
        }
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    return { client: proxy, marked: () => marked };
  }
});
