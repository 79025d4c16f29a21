/**
 * The stats API over the real embedded storage (SQLite rollup store, registry and in-process
 * cache): the same answers as over the in-memory fakes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { openEmbeddedStorage, type EmbeddedStorage } from '../appliance/storage/embedded/index.ts';
import { registerQueryRoutes } from './index.ts';
import { bucketsFromHits, type Hit } from '../tests/support/hits.ts';
import { manualClock } from '../tests/support/fakes/clock.ts';
import { MemoryCache } from '../tests/support/fakes/cache.ts';
import { MemoryRollupStore } from '../tests/support/fakes/rollup-store.ts';
import { seedRegistry } from '../tests/support/fakes/registry.ts';

const NOW = Date.UTC(2025, 9, 27, 9, 0); // the day after Berlin's 25-hour Sunday
const HOUR = 3_600_000;
const hits: Hit[] = Array.from({ length: 200 }, (_, i) => ({
  ts: NOW - 40 * 24 * HOUR + i * 4.9 * HOUR,
  visitor: `v${i % 37}`,
  pageviews: 1 + (i % 3),
  bounce: i % 4 === 0,
  durationMs: (i % 5) * 10_000,
  conversions: i % 10 === 0 ? 1 : 0,
  revenue: (i % 10 === 0 ? { EUR: 500 } : {}) as Record<string, number>,
  dims: { page: `/p${i % 7}`, source: i % 2 ? 'google' : 'news', country: ['DE', 'FR', 'US'][i % 3] },
}));

const URLS = [
  '/api/v1/stats/aggregate?site_id=site-a&period=30d&timezone=Europe/Berlin&compare=previous_period&metrics=visitors,visits,pageviews,views_per_visit,bounce_rate,visit_duration,events,conversions,revenue',
  '/api/v1/stats/aggregate?site_id=site-a&period=month&date=2025-10-01&metrics=visitors,pageviews',
  '/api/v1/stats/timeseries?site_id=site-a&period=30d&timezone=Europe/Berlin&metrics=visitors,pageviews,bounce_rate',
  '/api/v1/stats/timeseries?site_id=site-a&period=day&date=2025-10-26&timezone=Europe/Berlin',
  '/api/v1/stats/breakdown?site_id=site-a&period=30d&timezone=Europe/Berlin&property=page&metrics=visitors,pageviews&limit=3&page=2',
  '/api/v1/stats/breakdown?site_id=site-a&period=6mo&property=country&metrics=visitors,conversions,revenue',
  '/api/v1/stats/realtime/visitors?site_id=site-a',
];

describe('stats API on embedded storage', () => {
  let dir: string;
  let storage: EmbeddedStorage;
  let embedded: FastifyInstance;
  let memory: FastifyInstance;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'almanac-query-'));
    storage = openEmbeddedStorage({ path: path.join(dir, 'almanac.sqlite'), partitions: 2 });
    const buckets = bucketsFromHits('site-a', hits);
    await storage.rollups.commit({ partition: 0, nextOffset: 1, buckets, sessions: [], seen: [] });
    const clock = manualClock(NOW);
    embedded = Fastify();
    registerQueryRoutes(embedded, { rollups: storage.rollups, cache: storage.cache, registry: await seedRegistry(storage.registry), now: clock.now }, {});
    memory = Fastify();
    registerQueryRoutes(memory, { rollups: new MemoryRollupStore().put(buckets), cache: new MemoryCache(clock.now), registry: await seedRegistry(), now: clock.now }, {});
  });

  after(async () => {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('answers match the in-memory store, and are cached in the embedded cache', async () => {
    for (const url of URLS) {
      const headers = { authorization: 'Bearer key-acme' };
      const [a, b] = await Promise.all([embedded.inject({ url, headers }), memory.inject({ url, headers })]);
      assert.equal(a.statusCode, 200, `${url}: ${a.body}`);
      assert.deepEqual(a.json(), b.json(), url);
      const again = await embedded.inject({ url, headers });
      assert.equal(again.headers['x-almanac-cache'], 'hit', url);
    }
  });

  test('the 25-hour day has 25 hourly buckets and the data adds up', async () => {
    const r = await embedded.inject({
      url: '/api/v1/stats/timeseries?site_id=site-a&period=day&date=2025-10-26&timezone=Europe/Berlin&metrics=pageviews',
      headers: { authorization: 'Bearer key-acme' },
    });
    const results = r.json().results as { pageviews: number }[];
    assert.equal(results.length, 25);
    const day = await embedded.inject({
      url: '/api/v1/stats/aggregate?site_id=site-a&period=day&date=2025-10-26&timezone=Europe/Berlin&metrics=pageviews',
      headers: { authorization: 'Bearer key-acme' },
    });
    assert.equal(results.reduce((s, b) => s + b.pageviews, 0), day.json().results.pageviews.value);
    const from = Date.UTC(2025, 9, 25, 22);
    const expected = hits.filter((h) => h.ts >= from && h.ts < from + 25 * HOUR).reduce((s, h) => s + (h.pageviews ?? 1), 0);
    assert.ok(expected > 0);
    assert.equal(day.json().results.pageviews.value, expected);
  });
});
