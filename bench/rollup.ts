/**
 * Micro-benchmark of RollupState.apply on a synthetic but realistic stream: a few sites, many
 * visitors with multi-page visits, custom events with revenue, a little out-of-order arrival.
 * Run: node --import tsx bench/rollup.ts [nEvents]
 */
import type { EnrichedEvent } from '../core/event.ts';
import { MINUTE_MS } from '../core/time.ts';
import { RollupState } from '../pipeline/rollup/state.ts';

/** Deterministic PRNG (mulberry32) so runs are comparable. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function syntheticEvents(n: number, seed = 1): EnrichedEvent[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const sites = ['shop', 'blog', 'docs'];
  const paths = Array.from({ length: 300 }, (_, i) => `/section-${i % 12}/page-${i}`);
  const sources = ['', '', '', 'google.com', 'duckduckgo.com', 'news.ycombinator.com', 'twitter.com'];
  const visitors = Math.max(10, Math.floor(n / 8));
  const start = Date.UTC(2024, 0, 1);
  const out: EnrichedEvent[] = [];
  for (let i = 0; i < n; i++) {
    const ts = start + Math.floor((i / n) * 36 * 60 * MINUTE_MS) - (r() < 0.05 ? Math.floor(r() * 20 * MINUTE_MS) : 0);
    const custom = r() < 0.1;
    const path = pick(paths);
    const v = Math.floor(r() * visitors);
    out.push({
      eventId: `${i.toString(36)}-${Math.floor(r() * 1e9).toString(36)}`,
      trackingId: sites[v % sites.length],
      type: custom ? 'event' : 'pageview',
      name: custom ? pick(['signup', 'purchase', 'download']) : '',
      url: `https://example.com${path}`,
      host: 'example.com',
      path,
      referrer: '',
      source: pick(sources),
      title: '',
      ts,
      receivedAt: ts,
      props: {},
      revenue: custom && r() < 0.3 ? { amount: Math.floor(r() * 10000) / 100, currency: pick(['EUR', 'USD']) } : null,
      visitorId: `${(v * 2654435761 >>> 0).toString(16).padStart(8, '0')}${v.toString(16).padStart(24, '0')}`,
      browser: pick(['Chrome', 'Firefox', 'Safari', 'Edge']),
      os: pick(['Windows', 'macOS', 'Linux', 'iOS', 'Android']),
      device: pick(['desktop', 'mobile', 'tablet']),
      country: pick(['DE', 'US', 'FR', 'GB', 'IN', 'BR', '']),
      utmSource: r() < 0.2 ? pick(['newsletter', 'twitter']) : '',
      utmMedium: r() < 0.2 ? pick(['email', 'social']) : '',
      utmCampaign: r() < 0.1 ? pick(['spring', 'launch']) : '',
      utmTerm: '',
      utmContent: '',
    });
  }
  return out;
}

export interface BenchOptions {
  /** Events per apply() call (a log batch). */
  batch?: number;
  /** Events between takeDirty() calls (the aggregator's flush; each flush re-serialises changed rows). */
  flushEvery?: number;
}

export interface BenchResult {
  /** Throughput of the rollup math as the aggregator runs it: apply() plus takeDirty(). */
  eventsPerSec: number;
  /** apply() alone. */
  applyEventsPerSec: number;
  applyMs: number;
  takeDirtyMs: number;
  buckets: number;
}

export function benchRollup(nEvents: number, options: BenchOptions = {}): BenchResult {
  const batch = options.batch ?? 500;
  const flushEvery = Math.max(batch, options.flushEvery ?? 5000);
  const events = syntheticEvents(nEvents);
  const state = new RollupState();
  let applyMs = 0;
  let takeDirtyMs = 0;
  let sinceFlush = 0;
  for (let i = 0; i < events.length; i += batch) {
    const slice = events.slice(i, i + batch);
    const t0 = performance.now();
    state.apply(slice);
    applyMs += performance.now() - t0;
    sinceFlush += slice.length;
    if (sinceFlush >= flushEvery || i + batch >= events.length) {
      const t1 = performance.now();
      state.takeDirty();
      takeDirtyMs += performance.now() - t1;
      sinceFlush = 0;
    }
  }
  return {
    eventsPerSec: Math.round(nEvents / ((applyMs + takeDirtyMs) / 1000)),
    applyEventsPerSec: Math.round(nEvents / (applyMs / 1000)),
    applyMs: Math.round(applyMs),
    takeDirtyMs: Math.round(takeDirtyMs),
    buckets: state.size().buckets,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 200_000);
  for (const flushEvery of [500, 5_000, 50_000]) console.log({ flushEvery, ...benchRollup(n, { flushEvery }) });
}
