/**
 * The explore engine on its worker thread, against real DuckDB: bound values, the lock-down, the
 * cancel timer, the bounded queue and the tail tables.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startExploreEngine } from './client.ts';
import { EngineError, type ExploreEngine } from './types.ts';
import type { EngineSettings } from './protocol.ts';
import { sessionValuesOf } from '../../../core/segments/rows.ts';
import type { SegmentEventRow } from '../../../core/segments/schema.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'almanac-engine-'));
const readable = path.join(dir, 'segments');
mkdirSync(readable);
const settings: EngineSettings = { threads: 1, memoryMb: 512, tempDir: path.join(dir, 'tmp'), tempMb: 256, readableDirs: [readable], concurrency: 1, queueDepth: 1, timeoutMs: 5_000 };
const SLOW = 'SELECT sum(hash(i)) AS s FROM range(20000000000) t(i)';

let engine: ExploreEngine;
before(async () => { engine = await startExploreEngine(settings); });
after(async () => { await engine.close(); rmSync(dir, { recursive: true, force: true }); });

const code = async (p: Promise<unknown>): Promise<string> => {
  try { await p; return 'no error'; } catch (e) { return e instanceof EngineError ? e.code : `other: ${(e as Error).message}`; }
};

describe('explore engine', () => {
  test('values are bound, never spliced: injection strings come back as they went in', async () => {
    const strings = ["'; DROP TABLE tail_events; --", '$1', '\u0000x', '"quoted"', '%_', '.*', 'x'.repeat(10_000)];
    for (const s of strings) {
      const rows = await engine.run('SELECT $1 AS v, length($1) AS n', [s]);
      assert.deepEqual(rows, [{ v: s, n: [...s].length }]);
    }
    const tables = await engine.run("SELECT count(*) AS n FROM duckdb_tables() WHERE table_name IN ('tail_events', 'tail_visits')", []);
    assert.deepEqual(tables, [{ n: 2 }]);
  });

  test('lists bind with their element type and BIGINT comes back as a number', async () => {
    const rows = await engine.run('SELECT list_sum($1) AS s, list_contains($2, $3) AS has', [{ listOf: 'BIGINT', values: [1, 2, 2 ** 40] }, { listOf: 'VARCHAR', values: ['a', 'b'] }, 'b']);
    assert.deepEqual(rows, [{ s: 3 + 2 ** 40, has: true }]);
  });

  test('files outside the readable folders are refused, and settings are locked', async () => {
    assert.equal(await code(engine.run("SELECT * FROM read_csv('/etc/passwd')", [])), 'engine_failed');
    assert.equal(await code(engine.run("COPY (SELECT 1) TO '/tmp/almanac-should-not-exist.csv'", [])), 'engine_failed');
    assert.equal(await code(engine.run("SET enable_external_access = true", [])), 'engine_failed');
    writeFileSync(path.join(readable, 'x.csv'), 'a\n7\n');
    assert.deepEqual(await engine.run(`SELECT a FROM read_csv('${path.join(readable, 'x.csv')}')`, []), [{ a: 7 }]);
  });

  test('a statement past its time is cancelled with query_timeout, and the engine goes on', async () => {
    const started = Date.now();
    assert.equal(await code(engine.run(SLOW, [], { timeoutMs: 300 })), 'query_timeout');
    assert.ok(Date.now() - started < 4_000, 'cancelled promptly');
    assert.deepEqual(await engine.run('SELECT 1 AS one', []), [{ one: 1 }]);
  });

  test('beyond the connections and the queue, a statement is refused with engine_busy', async () => {
    const a = code(engine.run(SLOW, [], { timeoutMs: 1_500 }));
    const b = code(engine.run(SLOW, [], { timeoutMs: 1_500 }));
    assert.equal(await code(engine.run('SELECT 1', [])), 'engine_busy');
    assert.deepEqual([await a, await b], ['query_timeout', 'query_timeout']);
  });

  test('regular expressions are checked with the engine’s own syntax', async () => {
    assert.equal(await engine.checkRegex('^/blog/.*$'), null);
    assert.match((await engine.checkRegex('(unclosed')) ?? '', /missing \)/);
  });

  test('replaceTail swaps one site’s rows and leaves the others', async () => {
    const row = (id: string, ts: number, props: Record<string, string>): SegmentEventRow => ({
      event_id: id, visit_id: id, visitor_id: 'v', ts, received_at: ts, type: 'pageview', name: 'pageview', hostname: 'a.example', page: '/',
      revenue_currency: null, revenue_minor: null, props,
      ...sessionValuesOf({ path: '/', host: 'a.example', source: '', referrer: '', utmSource: '', utmMedium: '', utmCampaign: '', utmTerm: '', utmContent: '', country: 'DE', device: 'Desktop', browser: 'Firefox', os: 'Linux' } as never),
    });
    const day = Date.UTC(2026, 0, 2);
    await engine.replaceTail('site-a', { events: [row('a1', day + 5, { 'a.b': '1', $x: 'y' }), row('a2', day + 6, {})], visits: [] });
    await engine.replaceTail('site-b', { events: [row('b1', day + 7, {})], visits: [] });
    await engine.replaceTail('site-a', { events: [row('a3', day + 8, { plan: 'pro' })], visits: [] });
    const rows = await engine.run('SELECT tracking_id, event_id, day, map_extract_value(props, $1) AS plan FROM tail_events ORDER BY event_id', ['plan']);
    assert.deepEqual(rows, [
      { tracking_id: 'site-a', event_id: 'a3', day, plan: 'pro' },
      { tracking_id: 'site-b', event_id: 'b1', day, plan: null },
    ]);
  });
});
