/** Fixtures for the collector's tests: a tenant, a tracking ID, an incoming event, and a registry holding the first two. */
import { randomUUID } from 'node:crypto';
import type { IncomingEvent } from '../../core/event.ts';
import type { Tenant, TrackingIdRecord } from '../../core/ports/index.ts';
import { MemoryRegistry } from './fakes/registry.ts';

export const CHROME_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
export const IPHONE_UA = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';

export function aTenant(over: Partial<Tenant> = {}): Tenant {
  return { id: 'ten_1', name: 'Acme', status: 'active', rateLimitPerSec: 1000, monthlyEventCap: null, retentionDays: 365, createdAt: 0, ...over };
}

export function aTrackingId(over: Partial<TrackingIdRecord> = {}): TrackingIdRecord {
  return {
    id: 'site_1',
    tenantId: 'ten_1',
    name: 'shop',
    allowedOrigins: ['https://shop.example'],
    serverKey: 'sk_secret_key',
    status: 'active',
    respectDnt: false,
    createdAt: 0,
    ...over,
  };
}

/** A valid pageview; overrides may be invalid on purpose. */
export function anEvent(over: Record<string, unknown> = {}): IncomingEvent & Record<string, unknown> {
  return { eventId: randomUUID(), trackingId: 'site_1', type: 'pageview', url: 'https://shop.example/products?utm_source=news', ...over } as IncomingEvent & Record<string, unknown>;
}

/** A registry holding these tenants and tracking IDs (by default one active tenant with one site). */
export function aRegistry(tenants: Tenant[] = [aTenant()], trackingIds: TrackingIdRecord[] = [aTrackingId()]): MemoryRegistry {
  return new MemoryRegistry(tenants, trackingIds);
}
