import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { registerQueryRoutes, type QueryConfig } from './index.ts';
import { bumpDataVersion } from '../core/data-version.ts';
import { bucketsFromHits, type Hit } from '../tests/support/hits.ts';
import { manualClock } from '../tests/support/fakes/clock.ts';
import { MemoryCache } from '../tests/support/fakes/cache.ts';
import { MemoryRegistry, seedRegistry } from '../tests/support/fakes/registry.ts';
import { MemoryRollupStore } from '../tests/support/fakes/rollup-store.ts';

// Monday 31 March 2025, 10:00 UTC (12:00 in Berlin). Berlin switched to summer time on Sunday the 30th.
const NOW = Date.UTC(2025, 2, 31, 10, 0);
const at = (iso: string) => Date.parse(iso);

const HITS: Hit[] = [
  // Berlin Sat 29th 23:30 (UTC 29th).
  { ts: at('2025-03-29T22:30:00Z'), visitor: 'a', dims: { page: '/', source: 'google' } },
  // Berlin Sun 30th 00:30 (UTC still the 29th): a long, non-bounced visit.
  { ts: at('2025-03-29T23:30:00Z'), visitor: 'b', pageviews: 3, bounce: false, durationMs: 120_000, dims: { page: '/pricing', source: 'google' } },
  { ts: at('2025-03-30T12:00:00Z'), visitor: 'a', dims: { page: '/', source: 'google' } },
  // Berlin Mon 31st 00:30 (UTC the 30th), with a conversion.
  { ts: at('2025-03-30T22:30:00Z'), visitor: 'c', events: 2, conversions: 1, revenue: { EUR: 1999 }, dims: { page: '/', source: 'news' } },
  { ts: at('2025-03-31T09:50:00Z'), visitor: 'a', dims: { page: '/', source: 'google' } },
  { ts: at('2025-03-31T09:58:00Z'), visitor: 'd', dims: { page: '/blog', source: '(none)' } },
];

async function setup(options: { hits?: Hit[]; readDelayMs?: number; config?: QueryConfig; newestEventTs?: () => Record<string, number> } = {}) {
  const clock = manualClock(NOW);
  const rollups = new MemoryRollupStore({ readDelayMs: options.readDelayMs }).put(bucketsFromHits('site-a', options.hits ?? HITS));
  const cache = new MemoryCache(clock.now);
  const registry = new MemoryRegistry();
  await seedRegistry(registry);
  const app = Fastify();
  const service = registerQueryRoutes(app, { rollups, cache, registry, now: clock.now, newestEventTs: options.newestEventTs }, options.config ?? {});
  async function get(url: string, key: string | null = 'key-acme') {
    const r = await app.inject({ method: 'GET', url, headers: key === null ? {} : { authorization: `Bearer ${key}` } });
    return { status: r.statusCode, body: r.json(), cache: r.headers['x-almanac-cache'], headers: r.headers };
  }
  return { app, clock, rollups, cache, registry, service, get };
}

const AGG = '/api/v1/stats/aggregate';
const TS = '/api/v1/stats/timeseries';
const BD = '/api/v1/stats/breakdown';
const RT = '/api/v1/stats/realtime/visitors';
const ALL = 'visitors,visits,pageviews,views_per_visit,bounce_rate,visit_duration,events,conversions,revenue';

describe('aggregate', () => {
  test('every metric over a local day (Berlin DST Sunday: 23 hours)', async () => {
    const { get } = await setup();
    const r = await get(`${AGG}?site_id=site-a&period=day&date=2025-03-30&timezone=Europe/Berlin&metrics=${ALL}`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.results, {
      visitors: { value: 2 }, visits: { value: 2 }, pageviews: { value: 4 },
      views_per_visit: { value: 2 }, bounce_rate: { value: 50 }, visit_duration: { value: 60 },
      events: { value: 0 }, conversions: { value: 0 }, revenue: { value: {} },
    });
    assert.deepEqual(r.body.meta, {
      from: '2025-03-30T00:00:00+01:00', to: '2025-03-31T00:00:00+02:00', timezone: 'Europe/Berlin', dataVersion: NOW, period: 'day',
      // Freshness: the newest minute bucket with data (the 09:58 hit), whatever range was asked.
      dataAsOf: '2025-03-31T09:58:00.000Z',
    });
  });

  test('meta.dataAsOf is to the minute, also from the in-process aggregator (was ms-precise until a restart)', async () => {
    const fromRollups = await (await setup()).get(`${AGG}?site_id=site-a&period=day&metrics=visitors`);
    assert.equal(fromRollups.body.meta.dataAsOf, '2025-03-31T09:58:00.000Z');
    const inProcess = await (await setup({ newestEventTs: () => ({ 'site-a': at('2025-03-31T09:58:41.123Z') }) })).get(`${AGG}?site_id=site-a&period=day&metrics=visitors`);
    assert.equal(inProcess.body.meta.dataAsOf, '2025-03-31T09:58:00.000Z');
  });

  test('the same date in UTC is a different day', async () => {
    const { get } = await setup();
    const r = await get(`${AGG}?site_id=site-a&period=day&date=2025-03-30&metrics=visitors,pageviews,revenue`);
    assert.deepEqual(r.body.results, { visitors: { value: 2 }, pageviews: { value: 2 }, revenue: { value: { EUR: 19.99 } } });
  });

  test('day rows and hour rows give the same totals (UTC reads days, Berlin mixes)', async () => {
    const { get, rollups } = await setup();
    const before = rollups.reads;
    const utc = await get(`${AGG}?site_id=site-a&period=custom&date=2025-03-29,2025-03-31&metrics=visitors,visits,pageviews`);
    assert.equal(rollups.reads - before, 2, 'whole UTC days: one day read (and one minute read for meta.dataAsOf)');
    assert.deepEqual(utc.body.results, { visitors: { value: 4 }, visits: { value: 6 }, pageviews: { value: 8 } });
    const berlin = await get(`${AGG}?site_id=site-a&period=7d&timezone=Europe/Berlin&metrics=visitors,visits,pageviews`);
    assert.deepEqual(berlin.body.results, utc.body.results);
  });

  test('compare=previous_period: change in %, null when the previous value is 0', async () => {
    const { get } = await setup();
    const r = await get(`${AGG}?site_id=site-a&period=day&date=2025-03-30&timezone=Europe/Berlin&metrics=visitors,pageviews,events&compare=previous_period`);
    assert.deepEqual(r.body.results, {
      visitors: { value: 2, change: 100 },
      pageviews: { value: 4, change: 300 },
      events: { value: 0, change: null },
    });
    assert.deepEqual(r.body.meta.comparison, { from: '2025-03-29T00:00:00+01:00', to: '2025-03-30T00:00:00+01:00' });
  });

  test('period=realtime: the last 30 minutes from minute rows', async () => {
    const { get } = await setup();
    const r = await get(`${AGG}?site_id=site-a&period=realtime&metrics=visitors,pageviews`);
    assert.deepEqual(r.body.results, { visitors: { value: 2 }, pageviews: { value: 2 } });
    assert.equal(r.body.meta.from, '2025-03-31T09:31:00+00:00');
  });

  test('explicit from/to', async () => {
    const { get } = await setup();
    const r = await get(`${AGG}?site_id=site-a&from=2025-03-29T22:00:00Z&to=2025-03-30T00:00:00Z&metrics=visitors`);
    assert.equal(r.body.results.visitors.value, 2);
    assert.equal(r.body.meta.period, 'from_to');
  });
});

describe('timeseries', () => {
  test('hourly over the 23-hour DST day, empty hours filled with zeros', async () => {
    const { get } = await setup();
    const r = await get(`${TS}?site_id=site-a&period=day&date=2025-03-30&timezone=Europe/Berlin&metrics=visitors,pageviews`);
    assert.equal(r.status, 200);
    assert.equal(r.body.results.length, 23);
    assert.equal(r.body.meta.interval, 'hour');
    const nonZero = r.body.results.filter((b: { visitors: number }) => b.visitors > 0);
    assert.deepEqual(nonZero, [
      { date: '2025-03-30T00:00:00+01:00', visitors: 1, pageviews: 3 },
      { date: '2025-03-30T14:00:00+02:00', visitors: 1, pageviews: 1 },
    ]);
    assert.deepEqual(r.body.results[2], { date: '2025-03-30T03:00:00+02:00', visitors: 0, pageviews: 0 });
  });

  test('daily in Berlin over 7 days (default interval), revenue per bucket', async () => {
    const { get } = await setup();
    const r = await get(`${TS}?site_id=site-a&period=7d&timezone=Europe/Berlin&metrics=visitors,revenue`);
    assert.deepEqual(r.body.results.slice(-3), [
      { date: '2025-03-29T00:00:00+01:00', visitors: 1, revenue: {} },
      { date: '2025-03-30T00:00:00+01:00', visitors: 2, revenue: {} },
      { date: '2025-03-31T00:00:00+02:00', visitors: 3, revenue: { EUR: 19.99 } },
    ]);
    assert.deepEqual(r.body.results[0], { date: '2025-03-25T00:00:00+01:00', visitors: 0, revenue: {} });
  });

  test('monthly over 6 months, minute buckets for realtime', async () => {
    const { get } = await setup();
    const months = await get(`${TS}?site_id=site-a&period=6mo&metrics=pageviews`);
    assert.deepEqual(months.body.results.map((b: { date: string }) => b.date.slice(0, 7)), ['2024-10', '2024-11', '2024-12', '2025-01', '2025-02', '2025-03']);
    assert.equal(months.body.results[5].pageviews, 8);
    const minutes = await get(`${TS}?site_id=site-a&period=realtime`);
    assert.equal(minutes.body.results.length, 30);
    assert.deepEqual(minutes.body.results.filter((b: { visitors: number }) => b.visitors > 0).map((b: { date: string }) => b.date), [
      '2025-03-31T09:50:00+00:00', '2025-03-31T09:58:00+00:00',
    ]);
  });
});

describe('breakdown', () => {
  test('sorted by visitors desc then value, with paging from one cached list', async () => {
    const { get, rollups } = await setup();
    const all = await get(`${BD}?site_id=site-a&period=7d&timezone=Europe/Berlin&property=page&metrics=visitors,pageviews`);
    assert.deepEqual(all.body.results, [
      { page: '/', visitors: 2, pageviews: 4 },
      { page: '/blog', visitors: 1, pageviews: 1 },
      { page: '/pricing', visitors: 1, pageviews: 3 },
    ]);
    assert.deepEqual([all.body.meta.page, all.body.meta.limit, all.body.meta.totalRows, all.body.meta.hasMore], [1, 100, 3, false]);
    const reads = rollups.reads;
    const page2 = await get(`${BD}?site_id=site-a&period=7d&timezone=Europe/Berlin&property=page&metrics=visitors,pageviews&limit=1&page=2`);
    assert.equal(page2.cache, 'hit');
    assert.equal(rollups.reads, reads);
    assert.deepEqual(page2.body.results, [{ page: '/blog', visitors: 1, pageviews: 1 }]);
    assert.equal(page2.body.meta.hasMore, true);
    const past = await get(`${BD}?site_id=site-a&period=7d&timezone=Europe/Berlin&property=page&metrics=visitors,pageviews&limit=1&page=9`);
    assert.deepEqual(past.body.results, []);
  });

  test('session dimensions, conversions and revenue; visitors sorts even when not asked for', async () => {
    const { get } = await setup();
    const r = await get(`${BD}?site_id=site-a&period=30d&property=visit:source&metrics=conversions,revenue`);
    assert.deepEqual(r.body.results, [
      { source: 'google', conversions: 0, revenue: {} },
      { source: 'Direct / None', conversions: 0, revenue: {} },
      { source: 'news', conversions: 1, revenue: { EUR: 19.99 } },
    ]);
  });
});

test('direct traffic is "Direct / None" in the source breakdown, as in Plausible (was "(none)"); stored rows keep "(none)"', async () => {
  const { get, rollups } = await setup();
  const r = await get(`${BD}?site_id=site-a&period=day&property=source&metrics=visitors`);
  assert.deepEqual(r.body.results.map((x: { source: string }) => x.source).sort(), ['Direct / None', 'google']);
  // Other dimensions keep the neutral label: an empty UTM tag is not "direct".
  const utm = await get(`${BD}?site_id=site-a&period=day&property=utm_source&metrics=visitors`);
  assert.ok(utm.body.results.every((x: { utm_source: string }) => x.utm_source !== 'Direct / None'));
});

describe('realtime visitors', () => {
  test('unique visitors of the last 5 minutes, as a bare number', async () => {
    const { get, clock } = await setup();
    const r = await get(`${RT}?site_id=site-a`);
    assert.equal(r.status, 200);
    assert.equal(r.body, 1);
    clock.set(at('2025-03-31T09:54:30Z'));
    assert.equal((await get(`${RT}?site_id=site-a`)).body, 1);
    clock.set(at('2025-03-31T09:59:00Z'));
    assert.equal((await get(`${RT}?site_id=site-a`)).body, 1);
    clock.set(at('2025-03-31T09:52:00Z'));
    assert.equal((await get(`${RT}?site_id=site-a`)).body, 1);
    clock.set(at('2025-03-31T12:00:00Z'));
    assert.equal((await get(`${RT}?site_id=site-a`)).body, 0);
  });

  test('the union of minute sketches: a visitor seen in several minutes counts once', async () => {
    const hits = ['x', 'y', 'x', 'z', 'x'].map((visitor, i) => ({ ts: NOW - i * 60_000 + 1_000, visitor }));
    const { get } = await setup({ hits });
    assert.equal((await get(`${RT}?site_id=site-a`)).body, 3);
  });
});

describe('cache', () => {
  const CLOSED = `${AGG}?site_id=site-a&period=day&date=2025-03-29`;
  const OPEN = `${AGG}?site_id=site-a&period=day`;

  test('miss then hit; the second answer does not touch the store', async () => {
    const { get, rollups } = await setup();
    const first = await get(CLOSED);
    const reads = rollups.reads;
    const second = await get(CLOSED);
    assert.deepEqual([first.cache, second.cache], ['miss', 'hit']);
    assert.equal(rollups.reads, reads);
    assert.deepEqual(second.body, first.body);
    assert.equal(second.headers['cache-control'], 'private, no-store');
  });

  test('equivalent spellings share an entry (metric order, zone case, relative vs absolute date)', async () => {
    const { get } = await setup();
    await get(`${AGG}?site_id=site-a&period=day&date=2025-03-31&timezone=europe/berlin&metrics=pageviews,visitors`);
    const same = await get(`${AGG}?site_id=site-a&period=day&timezone=Europe/Berlin&metrics=visitors,pageviews`);
    assert.equal(same.cache, 'hit');
  });

  test('a data-version bump invalidates the site', async () => {
    const { get, cache } = await setup();
    await get(CLOSED);
    await cache.incr('dv:site-a');
    const after = await get(CLOSED);
    assert.equal(after.cache, 'miss');
    assert.equal(after.body.meta.dataVersion, NOW + 1);
    assert.equal((await get(CLOSED)).cache, 'hit');
  });

  test('the data version never goes backwards when its counter is lost (restart, eviction)', async () => {
    const { get, cache, clock } = await setup();
    const first = await get(CLOSED);
    await cache.incr('dv:site-a');
    const bumped = await get(CLOSED);
    assert.equal(bumped.cache, 'miss');
    // A restart of the process (embedded) or of Redis loses the counter; a shared cache may still
    // hold answers keyed by the old versions. It restarted at 0 and served the first answer again.
    await cache.delete('dv:site-a');
    clock.advance(1_000);
    const restarted = await get(CLOSED);
    assert.equal(restarted.cache, 'miss');
    assert.ok(restarted.body.meta.dataVersion > bumped.body.meta.dataVersion, `${restarted.body.meta.dataVersion} > ${bumped.body.meta.dataVersion}`);
    assert.ok(bumped.body.meta.dataVersion > first.body.meta.dataVersion);
    // A bump on a lost counter does not restart it at 1 either.
    await cache.delete('dv:site-a');
    clock.advance(1_000);
    await bumpDataVersion(cache, 'site-a', clock.now);
    assert.ok((await get(CLOSED)).body.meta.dataVersion > restarted.body.meta.dataVersion);
  });

  test('short TTL while the range is open, long once closed', async () => {
    const { get, clock } = await setup({ config: { openRangeTtlMs: 5_000, closedRangeTtlMs: 600_000 } });
    await get(OPEN);
    await get(CLOSED);
    clock.advance(6_000);
    assert.equal((await get(OPEN)).cache, 'miss');
    assert.equal((await get(CLOSED)).cache, 'hit');
    clock.advance(600_000);
    assert.equal((await get(CLOSED)).cache, 'miss');
  });

  test('a range that ended less than an hour ago is still open (late writes there do not bump the version)', async () => {
    const { get, clock } = await setup({ config: { openRangeTtlMs: 5_000 } });
    const lastHour = `${AGG}?site_id=site-a&from=2025-03-31T08:00:00Z&to=2025-03-31T09:00:00Z`;
    await get(lastHour);
    clock.advance(6_000);
    assert.equal((await get(lastHour)).cache, 'miss');
  });

  test('concurrent identical queries are coalesced: one store read', async () => {
    const { get, rollups, cache } = await setup({ readDelayMs: 20 });
    const url = `${AGG}?site_id=site-a&period=30d&metrics=visitors,pageviews`;
    await cache.set('dv:site-a', '7', Infinity); // an existing data version: no seeding below
    const sets = cache.sets;
    const answers = await Promise.all(Array.from({ length: 10 }, () => get(url)));
    assert.equal(rollups.reads, 2, 'one computation: the totals read and the freshness read');
    assert.equal(cache.sets - sets, 1);
    assert.ok(answers.every((a) => a.status === 200 && a.cache === 'miss'));
    assert.ok(answers.every((a) => JSON.stringify(a.body) === JSON.stringify(answers[0].body)));
  });

  test('a failing cache does not fail queries', async () => {
    const { get, cache } = await setup();
    cache.failing = true;
    const r = await get(CLOSED);
    assert.equal(r.status, 200);
    assert.equal(r.cache, 'miss');
    assert.equal(r.body.meta.dataVersion, null);
  });
});

describe('auth and tenant isolation', () => {
  const url = (site: string) => `${AGG}?site_id=${site}&period=day`;

  test('missing, malformed or unknown keys: 401, before anything else is looked at', async () => {
    const { app } = await setup();
    for (const authorization of [undefined, 'key-acme', 'Basic a2V5', 'Bearer nope']) {
      const r = await app.inject({ url: `${AGG}?site_id=site-a&period=nonsense`, headers: authorization ? { authorization } : {} });
      assert.equal(r.statusCode, 401, String(authorization));
      assert.equal(r.json().error.code, 'unauthorized');
      assert.equal(r.headers['www-authenticate'], 'Bearer');
    }
  });

  test("a tenant key reads its own sites only; another tenant's site and a missing site look the same (403)", async () => {
    const { get } = await setup();
    assert.equal((await get(url('site-a'))).status, 200);
    const other = await get(url('site-b'));
    const missing = await get(url('no-such-site'));
    assert.equal(other.status, 403);
    assert.equal(other.body.error.code, 'forbidden');
    assert.deepEqual(missing, { ...missing, status: other.status, body: other.body });
    assert.equal((await get(url('site-a'), 'key-globex')).status, 403);
  });

  test('an admin key reads any site and gets 404 for unknown ones', async () => {
    const { get } = await setup();
    assert.equal((await get(url('site-b'), 'key-admin')).status, 200);
    const r = await get(url('no-such-site'), 'key-admin');
    assert.equal(r.status, 404);
    assert.equal(r.body.error.code, 'not_found');
  });

  test('key and site lookups are memoised', async () => {
    const { get, registry } = await setup();
    for (let i = 0; i < 5; i++) await get(url('site-a'));
    assert.equal(registry.keyLookups, 1);
    assert.equal(registry.siteLookups, 1);
  });
});

describe('400 invalid_query names the parameter', () => {
  const cases: [string, string][] = [
    [`${AGG}?period=day`, 'site_id'],
    [`${AGG}?site_id=bad%20id`, 'site_id'],
    [`${AGG}?site_id=site-a&filters=event:page==/`, 'filters'],
    [`${AGG}?site_id=site-a&metrics=visitors&metrics=pageviews`, 'metrics'],
    [`${AGG}?site_id=site-a&interval=day`, 'interval'],
    [`${AGG}?site_id=site-a&period=week`, 'period'],
    [`${AGG}?site_id=site-a&timezone=Mars/Olympus`, 'timezone'],
    [`${AGG}?site_id=site-a&metrics=visitors,bounces`, 'metrics'],
    [`${AGG}?site_id=site-a&metrics=visitors,`, 'metrics'],
    [`${AGG}?site_id=site-a&period=realtime&date=2025-01-01`, 'date'],
    [`${AGG}?site_id=site-a&period=day&date=2025-02-30`, 'date'],
    [`${AGG}?site_id=site-a&period=month&date=March`, 'date'],
    [`${AGG}?site_id=site-a&period=custom`, 'date'],
    [`${AGG}?site_id=site-a&period=custom&date=2025-01-01`, 'date'],
    [`${AGG}?site_id=site-a&period=custom&date=2025-02-01,2025-01-01`, 'date'],
    [`${AGG}?site_id=site-a&period=custom&date=1990-01-01,2025-01-01`, 'date'],
    [`${AGG}?site_id=site-a&from=2025-01-01T00:00:00Z`, 'to'],
    [`${AGG}?site_id=site-a&to=2025-01-01T00:00:00Z`, 'from'],
    [`${AGG}?site_id=site-a&from=yesterday&to=2025-01-01T00:00:00Z`, 'from'],
    [`${AGG}?site_id=site-a&from=2025-01-01T00:00:00Z&to=2025-01-01T24:00:00Z`, 'to'],
    [`${AGG}?site_id=site-a&from=2025-01-02T00:00:00Z&to=2025-01-01T00:00:00Z`, 'to'],
    [`${AGG}?site_id=site-a&from=1990-01-01T00:00:00Z&to=2025-01-01T00:00:00Z`, 'to'],
    [`${AGG}?site_id=site-a&period=day&from=2025-01-01T00:00:00Z&to=2025-01-02T00:00:00Z`, 'period'],
    [`${AGG}?site_id=site-a&date=2025-01-01&from=2025-01-01T00:00:00Z&to=2025-01-02T00:00:00Z`, 'date'],
    [`${AGG}?site_id=site-a&compare=previous_year`, 'compare'],
    [`${TS}?site_id=site-a&interval=week`, 'interval'],
    [`${TS}?site_id=site-a&period=12mo&interval=minute`, 'interval'],
    [`${BD}?site_id=site-a`, 'property'],
    [`${BD}?site_id=site-a&property=city`, 'property'],
    [`${BD}?site_id=site-a&property=page&limit=0`, 'limit'],
    [`${BD}?site_id=site-a&property=page&limit=1001`, 'limit'],
    [`${BD}?site_id=site-a&property=page&limit=ten`, 'limit'],
    [`${BD}?site_id=site-a&property=page&page=0`, 'page'],
    [`${BD}?site_id=site-a&property=page&page=-1`, 'page'],
    [`${RT}?site_id=site-a&period=day`, 'period'],
    [`${RT}`, 'site_id'],
  ];

  test('every bad parameter', async () => {
    const { get } = await setup();
    for (const [url, param] of cases) {
      const r = await get(url);
      assert.equal(r.status, 400, url);
      assert.equal(r.body.error.code, 'invalid_query', url);
      assert.ok(r.body.error.detail.startsWith(`${param}: `), `${url} -> ${r.body.error.detail}`);
    }
  });
});

describe('page_prefix', () => {
  test('aggregate, timeseries and breakdown over the pages under a prefix, from the page rows', async () => {
    const { get } = await setup();
    const q = 'site_id=site-a&period=custom&date=2025-03-29,2025-03-31&timezone=UTC';
    const all = await get(`${BD}?${q}&property=page&metrics=visitors,pageviews`);
    const blog = all.body.results.filter((r: { page: string }) => r.page.startsWith('/blog'));
    assert.ok(blog.length > 0 && blog.length < all.body.results.length);
    const filtered = await get(`${BD}?${q}&property=page&metrics=visitors,pageviews&page_prefix=/blog`);
    assert.deepEqual(filtered.body.results, blog);
    assert.equal(filtered.body.meta.pagePrefix, '/blog');
    const agg = await get(`${AGG}?${q}&metrics=pageviews,visitors&page_prefix=/blog`);
    assert.equal(agg.status, 200);
    assert.equal(agg.body.results.pageviews.value, blog.reduce((n: number, r: { pageviews: number }) => n + r.pageviews, 0));
    const ts = await get(`${TS}?${q}&metrics=pageviews&interval=day&page_prefix=/blog`);
    assert.equal(ts.body.results.reduce((n: number, r: { pageviews: number }) => n + r.pageviews, 0), agg.body.results.pageviews.value);
    const unfiltered = await get(`${AGG}?${q}&metrics=pageviews`);
    assert.ok(unfiltered.body.results.pageviews.value > agg.body.results.pageviews.value, 'the filter removed the other pages');
  });

  test('what page rows cannot answer is refused, naming the parameter', async () => {
    const { get } = await setup();
    for (const url of [
      `${BD}?site_id=site-a&period=7d&property=source&page_prefix=/blog`,
      `${AGG}?site_id=site-a&period=7d&metrics=visits&page_prefix=/blog`,
      `${TS}?site_id=site-a&period=day&interval=minute&page_prefix=/blog`,
      `${TS}?site_id=site-a&period=realtime&page_prefix=/blog`,
      `${AGG}?site_id=site-a&period=7d&page_prefix=blog`,
    ]) {
      const r = await get(url);
      assert.equal(r.status, 400, url);
      assert.match(r.body.error.detail, /^page_prefix: /, url);
    }
  });
});
