/**
 * Helpers shared by the contract suites. Everything is unique per call, so suites can run
 * against a shared server (Kafka, MongoDB, Cassandra, Redis) alongside other runs.
 */
import { randomUUID } from 'node:crypto';
import type { EnrichedEvent } from '../../core/event.ts';
import { makeEvent as baseEvent } from '../support/events.ts';

/** A name no other test or run uses, e.g. for tracking IDs, groups, keys. */
export function unique(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 12)}`;
}

/** A shop pageview with a fresh event ID (unique on a shared server), from the one event builder. */
export function makeEvent(overrides: Partial<EnrichedEvent> = {}): EnrichedEvent {
  return baseEvent({
    eventId: randomUUID(),
    trackingId: 'contract-site',
    url: 'https://shop.example/products/42?utm_source=news',
    host: 'shop.example',
    path: '/products/42',
    referrer: 'https://search.example/?q=shoes',
    source: 'search.example',
    title: 'Product 42',
    ts: Date.UTC(2030, 0, 1, 12),
    receivedAt: Date.UTC(2030, 0, 1, 12),
    props: { plan: 'pro', items: 3 },
    visitorId: 'a1b2c3d4e5f60718',
    utmSource: 'news',
    ...overrides,
  });
}

/** Polls `check` until it returns true; fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export { sleep } from '../../core/async.ts';

/** What each suite's factory returns: a fresh port and how to dispose of it. */
export interface Harness<P> {
  port: P;
  /** Opens a second instance of the port on the same storage (as another process would); closed by cleanup. */
  another?(): Promise<P>;
  cleanup(): Promise<void>;
}
