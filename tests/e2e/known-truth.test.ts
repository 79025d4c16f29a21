/**
 * End to end on a real appliance: 10,000 generated events with known truth go in over HTTP as
 * browsers would send them; the stats API must give back pageviews, events, visits and bounces
 * exactly, and unique visitors within 2 %.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateTraffic } from '../support/traffic.ts';
import { getJson, pool, startTestAppliance, waitFor, type TestAppliance } from '../support/appliance.ts';
import { HOUR_MS } from '../../core/time.ts';

let t: TestAppliance;
before(async () => {
  t = await startTestAppliance(process.env.ALMANAC_E2E_PROFILE ? { ALMANAC_PROFILE: process.env.ALMANAC_E2E_PROFILE } : {});
});
after(() => t?.close());

test('10,000 events with known truth come back exactly from the stats API', async () => {
  const { trackingId, adminApiKey } = t.credentials;
  const start = Date.now() - 40 * HOUR_MS;
  const traffic = generateTraffic({ trackingId, events: 10_000, visitors: 1_500, start, spanMs: 30 * HOUR_MS, seed: 7 });

  // A browser sends a visitor's beacons one after another, minutes apart; the test compresses
  // hours into seconds, so it keeps each visitor's events in order by waiting for the previous one.
  const statuses = new Map<number, number>();
  const previous = new Map<string, Promise<void>>();
  await pool(traffic.sends, 24, async ({ visitor, event }) => {
    const before = previous.get(visitor.ip) ?? Promise.resolve();
    const sent = before.then(async () => {
      for (;;) {
        const res = await fetch(`${t.url}/api/event`, {
          method: 'POST',
          headers: {
            'content-type': 'text/plain', // as navigator.sendBeacon sends it
            origin: 'https://shop.example',
            'user-agent': visitor.userAgent,
            'x-forwarded-for': visitor.ip,
          },
          body: JSON.stringify(event),
        });
        await res.arrayBuffer();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status !== 429) return;
        await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 1) * 1000));
      }
    });
    previous.set(visitor.ip, sent);
    await sent;
  });
  statuses.delete(429); // rate-limited sends were retried after Retry-After, as clients do
  assert.deepEqual(Object.fromEntries(statuses), { 202: 10_000 });

  const range = `from=${new Date(traffic.from - HOUR_MS).toISOString()}&to=${new Date(traffic.to + HOUR_MS).toISOString()}`;
  const aggregateUrl = `${t.url}/api/v1/stats/aggregate?site_id=${trackingId}&${range}&metrics=visitors,visits,pageviews,events,bounce_rate,revenue`;
  let last: any;
  const complete = await waitFor(async () => {
    last = (await getJson(aggregateUrl, adminApiKey)).body;
    return last.results?.pageviews?.value + last.results?.events?.value === 10_000;
  }, 60_000);
  assert.ok(complete, `rollups incomplete after 60 s: ${JSON.stringify(last)}`);

  const r = last.results;
  assert.equal(r.pageviews.value, traffic.truth.pageviews);
  assert.equal(r.events.value, traffic.truth.events);
  assert.equal(r.visits.value, traffic.truth.visits);
  assert.equal(r.bounce_rate.value, Math.round((100 * traffic.truth.bounces) / traffic.truth.visits));
  assert.ok(Math.abs(r.visitors.value - traffic.truth.visitors) / traffic.truth.visitors <= 0.02, `visitors ${r.visitors.value} vs ${traffic.truth.visitors}`);
  const revenue = r.revenue.value as Record<string, number>;
  assert.equal(Object.keys(revenue).length, 1);
  assert.equal(Math.round(revenue.EUR * 100), traffic.truth.revenueCents);

  // The same numbers through the other endpoints: hourly series and the page breakdown add up.
  const series = await getJson(`${t.url}/api/v1/stats/timeseries?site_id=${trackingId}&${range}&interval=hour&metrics=pageviews,visits`, adminApiKey);
  assert.equal(series.status, 200);
  assert.equal(series.body.results.reduce((s: number, row: any) => s + row.pageviews, 0), traffic.truth.pageviews);
  assert.equal(series.body.results.reduce((s: number, row: any) => s + row.visits, 0), traffic.truth.visits);
  const pages = await getJson(`${t.url}/api/v1/stats/breakdown?site_id=${trackingId}&${range}&property=page&metrics=pageviews&limit=1000`, adminApiKey);
  assert.equal(pages.status, 200);
  assert.equal(pages.body.results.reduce((s: number, row: any) => s + row.pageviews, 0), traffic.truth.pageviews);
  const browsers = await getJson(`${t.url}/api/v1/stats/breakdown?site_id=${trackingId}&${range}&property=browser&metrics=visits`, adminApiKey);
  assert.deepEqual(new Set(browsers.body.results.map((row: any) => row.browser)), new Set(['Chrome', 'Safari', 'Firefox', 'Mobile Safari']));
});
