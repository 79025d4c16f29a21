/** Sends generated traffic as browsers would, and checks the stats API against its known truth. */
import assert from 'node:assert/strict';
import type { Traffic } from './traffic.ts';
import { getJson, pool, waitFor } from './appliance.ts';
import { HOUR_MS } from '../../core/time.ts';

/**
 * A browser sends a visitor's beacons one after another, minutes apart; the test compresses hours
 * into seconds, so each visitor's events stay in order by waiting for the previous one.
 * 429s are retried after Retry-After, as clients do. Returns the count of each final status.
 */
export async function sendAsBrowsers(collectorUrl: string, traffic: Traffic, concurrency = 24): Promise<Record<number, number>> {
  const statuses = new Map<number, number>();
  const previous = new Map<string, Promise<void>>();
  await pool(traffic.sends, concurrency, async ({ visitor, event }) => {
    const before = previous.get(visitor.ip) ?? Promise.resolve();
    const sent = before.then(async () => {
      for (;;) {
        const res = await fetch(`${collectorUrl}/api/event`, {
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
        if (res.status === 429 || res.status === 503) {
          await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 1) * 1000));
          continue;
        }
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        return;
      }
    });
    previous.set(visitor.ip, sent);
    await sent;
  });
  return Object.fromEntries(statuses);
}

/** Waits until every event is in the rollups, then checks each figure against the truth. */
export async function assertStatsMatchTruth(statsUrl: string, apiKey: string, trackingId: string, traffic: Traffic, timeoutMs = 60_000): Promise<void> {
  const range = `from=${new Date(traffic.from - HOUR_MS).toISOString()}&to=${new Date(traffic.to + HOUR_MS).toISOString()}`;
  const aggregateUrl = `${statsUrl}/api/v1/stats/aggregate?site_id=${trackingId}&${range}&metrics=visitors,visits,pageviews,events,bounce_rate,revenue`;
  const total = traffic.truth.pageviews + traffic.truth.events;
  let last: any;
  const complete = await waitFor(async () => {
    last = (await getJson(aggregateUrl, apiKey)).body;
    return last.results?.pageviews?.value + last.results?.events?.value >= total;
  }, timeoutMs, 500);
  assert.ok(complete, `rollups incomplete after ${timeoutMs} ms: ${JSON.stringify(last)}`);

  const r = last.results;
  assert.equal(r.pageviews.value, traffic.truth.pageviews);
  assert.equal(r.events.value, traffic.truth.events);
  assert.equal(r.visits.value, traffic.truth.visits);
  assert.equal(r.bounce_rate.value, Math.round((100 * traffic.truth.bounces) / traffic.truth.visits));
  assert.ok(Math.abs(r.visitors.value - traffic.truth.visitors) / traffic.truth.visitors <= 0.02, `visitors ${r.visitors.value} vs ${traffic.truth.visitors}`);
  assert.equal(Math.round(r.revenue.value.EUR * 100), traffic.truth.revenueCents);

  // The same numbers through the other endpoints: hourly series and the page breakdown add up.
  const series = await getJson(`${statsUrl}/api/v1/stats/timeseries?site_id=${trackingId}&${range}&interval=hour&metrics=pageviews,visits`, apiKey);
  assert.equal(series.status, 200);
  assert.equal(series.body.results.reduce((s: number, row: any) => s + row.pageviews, 0), traffic.truth.pageviews);
  assert.equal(series.body.results.reduce((s: number, row: any) => s + row.visits, 0), traffic.truth.visits);
  const pages = await getJson(`${statsUrl}/api/v1/stats/breakdown?site_id=${trackingId}&${range}&property=page&metrics=pageviews&limit=1000`, apiKey);
  assert.equal(pages.status, 200);
  assert.equal(pages.body.results.reduce((s: number, row: any) => s + row.pageviews, 0), traffic.truth.pageviews);
  const browsers = await getJson(`${statsUrl}/api/v1/stats/breakdown?site_id=${trackingId}&${range}&property=browser&metrics=visits`, apiKey);
  assert.deepEqual(new Set(browsers.body.results.map((row: any) => row.browser)), new Set(['Chrome', 'Safari', 'Firefox', 'Mobile Safari']));
}
