/**
 * In-memory fakes of our own ports (core/ports/index.ts) and fixtures, for the collector's tests.
 * They implement only what the collector uses, with knobs to make them fail or slow.
 */
import { randomUUID } from 'node:crypto';
import type { EnrichedEvent, IncomingEvent } from '../core/event.ts';
import type { Cache, Registry, SaltRegistry, Tenant, TrackingIdRecord } from '../core/ports/index.ts';

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

export type FakeRegistry = Pick<Registry, 'getTrackingId' | 'getTenant' | 'addIngestCounts' | keyof SaltRegistry> & {
  /** Daily salts by day (ms), as the registry keeps them. */
  salts: Map<number, string>;
  /** getOrCreateDailySalt calls. */
  saltCalls: number;
  failSalts: boolean;
  tenants: Map<string, Tenant>;
  trackingIds: Map<string, TrackingIdRecord>;
  /** Every addIngestCounts call, in order. */
  ingestCalls: { trackingId: string; day: number; counts: Record<string, number> }[];
  lookups: number;
  failLookups: boolean;
  failIngestCounts: boolean;
  /** Sums of all addIngestCounts calls per tracking ID. */
  countsOf(trackingId: string): Record<string, number>;
};

export function createFakeRegistry(tenants: Tenant[] = [aTenant()], trackingIds: TrackingIdRecord[] = [aTrackingId()]): FakeRegistry {
  const reg: FakeRegistry = {
    tenants: new Map(tenants.map((t) => [t.id, t])),
    trackingIds: new Map(trackingIds.map((t) => [t.id, t])),
    ingestCalls: [],
    lookups: 0,
    failLookups: false,
    failIngestCounts: false,
    salts: new Map(),
    saltCalls: 0,
    failSalts: false,
    async getOrCreateDailySalt(day, candidate) {
      reg.saltCalls++;
      if (reg.failSalts) throw new Error('registry down');
      if (!reg.salts.has(day)) reg.salts.set(day, candidate);
      return reg.salts.get(day)!;
    },
    async deleteDailySaltsBefore(day) {
      const old = [...reg.salts.keys()].filter((d) => d < day);
      for (const d of old) reg.salts.delete(d);
      return old.length;
    },
    async listDailySaltDays() {
      return [...reg.salts.keys()].sort((a, b) => a - b);
    },
    async getTrackingId(id) {
      reg.lookups++;
      if (reg.failLookups) throw new Error('registry down');
      return reg.trackingIds.get(id);
    },
    async getTenant(id) {
      if (reg.failLookups) throw new Error('registry down');
      return reg.tenants.get(id);
    },
    async addIngestCounts(trackingId, day, counts) {
      if (reg.failIngestCounts) throw new Error('registry down');
      reg.ingestCalls.push({ trackingId, day, counts: { ...counts } });
    },
    countsOf(trackingId) {
      const sum: Record<string, number> = {};
      for (const c of reg.ingestCalls) if (c.trackingId === trackingId) for (const [k, n] of Object.entries(c.counts)) sum[k] = (sum[k] ?? 0) + n;
      return sum;
    },
  };
  return reg;
}

export interface FakeEventLog {
  appended: EnrichedEvent[];
  calls: number;
  fail: boolean;
  append(events: readonly EnrichedEvent[]): Promise<void>;
}

export function createFakeEventLog(): FakeEventLog {
  const log: FakeEventLog = {
    appended: [],
    calls: 0,
    fail: false,
    async append(events) {
      log.calls++;
      if (log.fail) throw new Error('log down');
      log.appended.push(...events);
    },
  };
  return log;
}

export type FakeCache = Cache & { entries: Map<string, { value: string; expiresAt: number }>; fail: boolean };

/** A Cache with TTLs on an injectable clock. */
export function createFakeCache(now: () => number = Date.now): FakeCache {
  const entries = new Map<string, { value: string; expiresAt: number }>();
  const live = (k: string) => {
    const e = entries.get(k);
    if (e && e.expiresAt <= now()) entries.delete(k);
    return entries.get(k);
  };
  const cache: FakeCache = {
    entries,
    fail: false,
    async get(k) {
      return live(k)?.value;
    },
    async set(k, value, ttlMs) {
      entries.set(k, { value, expiresAt: now() + ttlMs });
    },
    async delete(k) {
      entries.delete(k);
    },
    async incr(k) {
      const n = Number(live(k)?.value ?? 0) + 1;
      entries.set(k, { value: String(n), expiresAt: live(k)?.expiresAt ?? Infinity });
      return n;
    },
    async setIfAbsent(k, value, ttlMs) {
      if (cache.fail) throw new Error('cache down');
      const e = live(k);
      if (e) return e.value;
      entries.set(k, { value, expiresAt: now() + ttlMs });
      return value;
    },
    async close() {},
  };
  return cache;
}

/** A clock tests move by hand. */
export function manualClock(start = Date.UTC(2026, 5, 15, 12, 0, 0)): { now: () => number; advance(ms: number): void; set(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms), set: (ms) => void (t = ms) };
}
