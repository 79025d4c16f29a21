/**
 * fast-check generators of realistic event streams for the rollup math, and a splitter into
 * batches of a log.
 */
import fc from 'fast-check';
import type { EnrichedEvent } from '../../core/event.ts';
import { HOUR_MS, MINUTE_MS } from '../../core/time.ts';
import { BASE_TS, makeEvent } from './events.ts';

export interface StreamShape {
  sites: readonly string[];
  visitors: number;
  paths: readonly string[];
  sources: readonly string[];
  maxEvents: number;
}

export const SMALL_SHAPE: StreamShape = {
  sites: ['site-a', 'site-b'],
  visitors: 4,
  paths: ['/', '/pricing', '/blog/hll', '/docs', '/about'],
  sources: ['', 'google.com', 'news.ycombinator.com'],
  maxEvents: 60,
};

const rawEvent = (shape: StreamShape) =>
  fc.record({
    site: fc.nat(shape.sites.length - 1),
    visitor: fc.nat(shape.visitors - 1),
    custom: fc.boolean(),
    name: fc.constantFrom('signup', 'purchase', 'download'),
    revenue: fc.option(
      fc.record({ cents: fc.nat(100_000), currency: fc.constantFrom('EUR', 'USD', 'JPY') }),
      { freq: 2 },
    ),
    path: fc.constantFrom(...shape.paths),
    source: fc.constantFrom(...shape.sources),
    utmSource: fc.constantFrom('', 'newsletter', 'twitter'),
    utmMedium: fc.constantFrom('', 'email', 'social'),
    utmCampaign: fc.constantFrom('', 'spring'),
    country: fc.constantFrom('', 'DE', 'US', 'FR'),
    device: fc.constantFrom('desktop', 'mobile', 'tablet'),
    browser: fc.constantFrom('Chrome', 'Firefox', ''),
    os: fc.constantFrom('Linux', 'iOS', 'Windows'),
    // Mostly small steps (same minute, same visit), sometimes long gaps that end visits.
    step: fc.oneof(
      { weight: 3, arbitrary: fc.constant(0) },
      { weight: 6, arbitrary: fc.integer({ min: 0, max: 3 * MINUTE_MS }) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 45 * MINUTE_MS }) },
    ),
    // Out-of-order arrivals: a little late (same visit) or long late (an older visit).
    lateBy: fc.oneof(
      { weight: 12, arbitrary: fc.constant(0) },
      { weight: 2, arbitrary: fc.integer({ min: 1, max: 40 * MINUTE_MS }) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 * HOUR_MS }) },
    ),
    idRand: fc.nat(999),
  });

type RawEvent = ReturnType<typeof rawEvent> extends fc.Arbitrary<infer R> ? R : never;

/** The event a generated raw event stands for: the `i`-th of its stream, at `ts`, received at `receivedAt`. */
function eventOf(r: RawEvent, i: number, shape: StreamShape, ts: number, receivedAt: number): EnrichedEvent {
  return makeEvent({
    eventId: `${String(r.idRand).padStart(3, '0')}-${i}`,
    trackingId: shape.sites[r.site],
    visitorId: `visitor-${r.visitor}`,
    type: r.custom ? 'event' : 'pageview',
    name: r.custom ? r.name : '',
    path: r.path,
    url: `https://example.com${r.path}`,
    source: r.source,
    referrer: r.source === '' ? '' : `https://${r.source}/`,
    revenue: r.custom && r.revenue !== null ? { amount: r.revenue.cents / 100, currency: r.revenue.currency } : null,
    ts,
    receivedAt,
    utmSource: r.utmSource,
    utmMedium: r.utmMedium,
    utmCampaign: r.utmCampaign,
    country: r.country,
    device: r.device,
    browser: r.browser,
    os: r.os,
  });
}

/** Streams of EnrichedEvents in log order with unique eventIds that do not follow ts order. */
export function eventStream(shape: StreamShape = SMALL_SHAPE): fc.Arbitrary<EnrichedEvent[]> {
  return fc.array(rawEvent(shape), { maxLength: shape.maxEvents, size: 'max' }).map((raws) => {
    // 23:15: the first hour boundary comes quickly, midnight after about 45 min of stream time.
    let clock = BASE_TS + 75 * MINUTE_MS;
    return raws.map((r, i) => {
      clock += r.step;
      return eventOf(r, i, shape, clock - r.lateBy, clock);
    });
  });
}

/** Cuts a list at the given points (sorted, clamped, deduplicated): batches of a log. */
export function splitAt<T>(items: readonly T[], points: readonly number[]): T[][] {
  const cuts = [...new Set(points.map((p) => p % (items.length + 1)))].sort((a, b) => a - b);
  const out: T[][] = [];
  let from = 0;
  for (const c of cuts) {
    out.push(items.slice(from, c));
    from = c;
  }
  out.push(items.slice(from));
  return out;
}

/**
 * A few visitors' events with timestamps scattered over a day (clusters that make visits, and
 * lone events between them), each with an arrival rank: `arrived` is the order they reach the
 * log (offline queues, retries, backfills), `sorted` the (ts, eventId) order of the archive.
 */
export function scatteredArrivals(shape: StreamShape = SMALL_SHAPE): fc.Arbitrary<{ sorted: EnrichedEvent[]; arrived: EnrichedEvent[] }> {
  const day = 24 * HOUR_MS;
  const ts = fc.oneof(
    { weight: 1, arbitrary: fc.integer({ min: 0, max: day }) },
    // Around a few fixed moments (two of them straddle midnight and an hour boundary): visits of several events.
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom(0, 3 * HOUR_MS + 50 * MINUTE_MS, 12 * HOUR_MS, 20 * HOUR_MS - 10 * MINUTE_MS), fc.integer({ min: 0, max: 50 * MINUTE_MS })).map(([a, b]) => a + b) },
  );
  return fc
    .array(fc.tuple(rawEvent({ ...shape, visitors: Math.min(shape.visitors, 3) }), ts, fc.nat()), { maxLength: shape.maxEvents, size: 'max' })
    .map((raws) => {
      // 20:00 the day before: the day boundary falls 4 h into the spread.
      const from = BASE_TS - 2 * HOUR_MS;
      const events = raws.map(([r, at, rank], i) => ({
        rank,
        event: eventOf(r, i, shape, from + at, from + day),
      }));
      const arrived = [...events].sort((a, b) => a.rank - b.rank).map((x) => x.event);
      const sorted = events.map((x) => x.event).sort((a, b) => a.ts - b.ts || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
      return { sorted, arrived };
    });
}
