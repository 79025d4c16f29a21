/**
 * The collector's routes on a Fastify instance with in-memory fakes (registry, event log, clock)
 * and a fixed GeoIP table, driven with inject(): no sockets. For the collectors/*.test.ts files.
 */
import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify';
import type { CollectorConfigInput } from '../../collectors/config.ts';
import { createCollector, type Collector } from '../../collectors/http.ts';
import { CHROME_UA, aTenant, aTrackingId, aRegistry } from './collector-fixtures.ts';
import { manualClock } from './fakes/clock.ts';
import { createFakeEventLog } from './fakes/event-log.ts';

export const ORIGIN = 'https://shop.example';
export const BROWSER = { origin: ORIGIN, 'user-agent': CHROME_UA, 'content-type': 'text/plain;charset=UTF-8' };
export const SERVER = { 'x-almanac-key': 'sk_secret_key', 'user-agent': 'node', 'content-type': 'application/json' };
export const GEO = { get: (ip: string) => ({ '8.8.8.8': { country_code: 'US' }, '81.2.69.142': { country_code: 'GB' } })[ip] ?? null };

const apps: FastifyInstance[] = [];
/** An app of the test's own, closed with the others by closeCollectorApps(). */
export function closedAfterTests(app: FastifyInstance): FastifyInstance {
  apps.push(app);
  return app;
}
/** Closes every app setup() or closedAfterTests() took: call it from the test file's after(). */
export async function closeCollectorApps(): Promise<void> {
  await Promise.all(apps.splice(0).map((a) => a.close()));
}

export async function setup(opts: { config?: CollectorConfigInput; tenant?: Parameters<typeof aTenant>[0]; trackingIds?: ReturnType<typeof aTrackingId>[] } = {}) {
  const clock = manualClock();
  const registry = aRegistry([aTenant(opts.tenant)], opts.trackingIds ?? [aTrackingId(), aTrackingId({ id: 'site_2' })]);
  const eventLog = createFakeEventLog();
  const app = Fastify();
  apps.push(app);
  const collector: Collector = createCollector({ eventLog, registry, geo: GEO, now: clock.now }, { counterFlushMs: 3_600_000, ...opts.config });
  collector.register(app);
  await app.ready();
  const post = (url: string, payload: unknown, headers: Record<string, string> = BROWSER) =>
    app.inject({ method: 'POST', url, headers, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) } as InjectOptions);
  return { app, clock, registry, eventLog, collector, post };
}
