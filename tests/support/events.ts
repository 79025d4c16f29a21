/** The one builder of enriched events in tests: a desktop pageview on example.com, with an increasing event ID. */
import { randomBytes, randomUUID } from 'node:crypto';
import type { EnrichedEvent } from '../../core/event.ts';

/** 22:00 UTC, two hours before a day boundary. */
export const BASE_TS = Date.UTC(2024, 2, 9, 22, 0, 0);

let counter = 0;

export function makeEvent(over: Partial<EnrichedEvent> = {}): EnrichedEvent {
  const path = over.path ?? '/';
  return {
    eventId: over.eventId ?? `evt-${String(++counter).padStart(6, '0')}`,
    trackingId: 'site-a',
    type: 'pageview',
    name: '',
    url: `https://example.com${path}`,
    host: 'example.com',
    path,
    referrer: '',
    source: '',
    title: '',
    ts: BASE_TS,
    receivedAt: BASE_TS,
    props: {},
    revenue: null,
    visitorId: 'visitor-1',
    browser: 'Firefox',
    os: 'Linux',
    device: 'desktop',
    country: 'DE',
    utmSource: '',
    utmMedium: '',
    utmCampaign: '',
    utmTerm: '',
    utmContent: '',
    ...over,
  };
}

/** A realistic enriched event (about 600 bytes of JSON) with a fresh event ID and visitor: a shop product page from a newsletter. */
export function sampleEvent(trackingId: string, ts: number): EnrichedEvent {
  return makeEvent({
    eventId: randomUUID(),
    trackingId,
    url: 'https://shop.example/products/linen-shirt?utm_source=newsletter',
    host: 'shop.example',
    path: '/products/linen-shirt',
    referrer: 'https://search.example/?q=linen+shirt',
    source: 'search.example',
    title: 'Linen shirt – Shop Example',
    ts,
    receivedAt: ts + 40,
    props: { plan: 'pro', cart_items: 2 },
    visitorId: randomBytes(16).toString('hex'),
    utmSource: 'newsletter',
    utmMedium: 'email',
    utmCampaign: 'summer-2030',
  });
}
