/**
 * Generated traffic with known truth: visitors (distinct IP + user agent), their visits
 * (separated by more than the session timeout) and events inside visits (closer than it).
 * Deterministic for a seed, so a failing run can be repeated.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingEvent } from '../../core/event.ts';

export interface GeneratedVisitor {
  ip: string;
  userAgent: string;
}

export interface Traffic {
  /** Events in send order, each with the visitor that sends it. */
  sends: { visitor: GeneratedVisitor; event: IncomingEvent }[];
  truth: { pageviews: number; events: number; visits: number; visitors: number; bounces: number; revenueCents: number };
  from: number;
  to: number;
}

export interface TrafficOptions {
  trackingId: string;
  events: number;
  visitors: number;
  /** Events happen in [start, start + spanMs). */
  start: number;
  spanMs: number;
  sessionTimeoutMs?: number;
  seed?: number;
  host?: string;
}

const BROWSERS = [
  (n: number) => `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.${n}.0 Safari/537.36`,
  (n: number) => `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.${n % 9}.${n} Safari/605.1.15`,
  (n: number) => `Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0.${n}`,
  (n: number) => `Mozilla/5.0 (iPhone; CPU iPhone OS 17_${n % 9} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1`,
];
const PAGES = ['/', '/pricing', '/blog/hello', '/blog/scaling', '/docs', '/docs/install', '/signup', '/about'];
const REFERRERS = ['', '', 'https://www.google.com/', 'https://news.ycombinator.com/', 'https://twitter.com/'];

/** A seeded generator of numbers in [0, 1) (mulberry32): the same seed gives the same run. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateTraffic(o: TrafficOptions): Traffic {
  const random = rng(o.seed ?? 42);
  const timeout = o.sessionTimeoutMs ?? 30 * 60_000;
  const host = o.host ?? 'https://shop.example';
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
  const visitors: GeneratedVisitor[] = Array.from({ length: o.visitors }, (_, i) => ({
    ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    userAgent: BROWSERS[i % BROWSERS.length](i),
  }));

  // Spread the events over visitors, then cut each visitor's events into visits.
  const perVisitor = new Array<number>(o.visitors).fill(1);
  for (let left = o.events - o.visitors; left > 0; left--) perVisitor[Math.floor(random() * o.visitors)]++;

  const sends: Traffic['sends'] = [];
  const truth = { pageviews: 0, events: 0, visits: 0, visitors: o.visitors, bounces: 0, revenueCents: 0 };
  for (let v = 0; v < o.visitors; v++) {
    let t = o.start + Math.floor(random() * o.spanMs * 0.5);
    let left = perVisitor[v];
    while (left > 0) {
      const size = Math.min(left, 1 + Math.floor(random() * 6));
      left -= size;
      truth.visits++;
      if (size === 1) truth.bounces++;
      const referrer = pick(REFERRERS);
      for (let k = 0; k < size; k++) {
        const custom = k > 0 && random() < 0.2;
        const event: IncomingEvent = {
          eventId: randomUUID(),
          trackingId: o.trackingId,
          type: custom ? 'event' : 'pageview',
          url: `${host}${pick(PAGES)}${k === 0 && random() < 0.3 ? '?utm_source=newsletter&utm_medium=email&utm_campaign=launch' : ''}`,
          ts: t,
          ...(k === 0 && referrer ? { referrer } : {}),
        };
        if (custom) {
          event.name = random() < 0.5 ? 'Signup' : 'Purchase';
          if (event.name === 'Purchase') {
            const cents = 100 + Math.floor(random() * 10_000);
            event.revenue = { amount: cents / 100, currency: 'EUR' };
            truth.revenueCents += cents;
          }
          truth.events++;
        } else truth.pageviews++;
        sends.push({ visitor: visitors[v], event });
        if (k < size - 1) t += 1_000 + Math.floor(random() * (timeout - 60_000));
      }
      t += timeout + 60_000 + Math.floor(random() * timeout);
    }
  }
  // Devices send as things happen: in time order across visitors.
  sends.sort((a, b) => a.event.ts! - b.event.ts!);
  const times = sends.map((s) => s.event.ts!);
  return { sends, truth, from: Math.min(...times), to: Math.max(...times) + 1 };
}
