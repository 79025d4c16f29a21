/** The collector over HTTP: single events, CORS, rate limits, lifecycle and robustness. */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import fc from 'fast-check';
import { createCollector, registerCollectorRoutes } from './http.ts';
import { CHROME_UA, aTenant, aTrackingId, anEvent, aRegistry } from '../tests/support/collector-fixtures.ts';
import { createFakeEventLog } from '../tests/support/fakes/event-log.ts';
import { BROWSER, ORIGIN, SERVER, setup, closeCollectorApps, closedAfterTests } from '../tests/support/collector-app.ts';

after(closeCollectorApps);

describe('POST /api/event', () => {
  test('a sendBeacon (text/plain) pageview is accepted, enriched and appended; CORS echoes the origin', async () => {
    const { post, eventLog, collector } = await setup();
    const e = anEvent({ referrer: 'https://www.google.com/' });
    const res = await post('/api/event', e);
    assert.equal(res.statusCode, 202);
    assert.deepEqual(res.json(), { accepted: 1 });
    assert.equal(res.headers['access-control-allow-origin'], ORIGIN);
    assert.equal(eventLog.appended.length, 1);
    const got = eventLog.appended[0]!;
    assert.equal(got.eventId, e.eventId);
    assert.equal(got.browser, 'Chrome');
    assert.equal(got.source, 'google.com');
    assert.equal(got.utmSource, 'news');
    assert.match(got.visitorId, /^[0-9a-f]{32}$/);
    assert.deepEqual(collector.counters.snapshot().site_1, { accepted: 1 });
  });

  test('application/json is accepted too', async () => {
    const { post } = await setup();
    const res = await post('/api/event', anEvent(), { ...BROWSER, 'content-type': 'application/json' });
    assert.equal(res.statusCode, 202);
  });

  test('415 for other content types, 400 for malformed or empty JSON, 400 invalid_event with detail', async () => {
    const { post, collector } = await setup();
    let res = await post('/api/event', 'a=1', { ...BROWSER, 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(res.statusCode, 415);
    assert.equal(res.json().error.code, 'unsupported_media_type');
    res = await post('/api/event', '{"eventId":', BROWSER);
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.code, 'malformed_json');
    res = await post('/api/event', '', BROWSER);
    assert.equal(res.json().error.code, 'malformed_json');
    res = await post('/api/event', anEvent({ url: 'relative/path' }));
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json(), { error: { code: 'invalid_event', message: 'The event does not match the event schema.', detail: 'url: url must be an absolute URL' } });
    assert.equal(res.headers['access-control-allow-origin'], ORIGIN, 'an allowed page can read why');
    assert.equal(collector.counters.snapshot().site_1!['rejected:invalid_event'], 1);
    assert.equal(collector.counters.snapshot()['']!['rejected:malformed_json'], 2);
  });

  test('413 body_too_large above maxBodyBytes.event (16 KiB by default)', async () => {
    const { post } = await setup();
    const res = await post('/api/event', anEvent({ title: 'x'.repeat(17 * 1024) }));
    assert.equal(res.statusCode, 413);
    assert.equal(res.json().error.code, 'body_too_large');
  });

  test('timestamps: too far ahead and too old are rejected', async () => {
    const { post, clock } = await setup();
    assert.equal((await post('/api/event', anEvent({ ts: clock.now() + 3_600_000 }))).json().error.code, 'timestamp_in_future');
    assert.equal((await post('/api/event', anEvent({ ts: clock.now() - 73 * 3_600_000 }))).json().error.code, 'timestamp_too_old');
  });

  test('auth: unknown, revoked, suspended, origin, server key, missing origin', async () => {
    const { post, registry, eventLog } = await setup({
      trackingIds: [aTrackingId(), aTrackingId({ id: 'gone', status: 'revoked' }), aTrackingId({ id: 'susp', tenantId: 'ten_s' })],
    });
    registry.tenants.set('ten_s', aTenant({ id: 'ten_s', status: 'suspended' }));
    const cases: [Record<string, unknown>, Record<string, string>, number, string][] = [
      [anEvent({ trackingId: 'nope' }), BROWSER, 401, 'unknown_tracking_id'],
      [anEvent({ trackingId: 'gone' }), BROWSER, 403, 'tracking_id_revoked'],
      [anEvent({ trackingId: 'susp' }), BROWSER, 403, 'tenant_suspended'],
      [anEvent(), { ...BROWSER, origin: 'https://evil.example' }, 403, 'origin_not_allowed'],
      [anEvent(), { ...SERVER, 'x-almanac-key': 'wrong' }, 401, 'bad_server_key'],
      [anEvent(), { 'content-type': 'application/json', 'user-agent': CHROME_UA }, 401, 'missing_origin'],
    ];
    for (const [event, headers, status, code] of cases) {
      const res = await post('/api/event', event, headers);
      assert.equal(res.statusCode, status, code);
      assert.equal(res.json().error.code, code);
      assert.equal(res.headers['access-control-allow-origin'], undefined, `${code}: no CORS grant`);
    }
    assert.equal(eventLog.appended.length, 0);
    const ok = await post('/api/event', anEvent(), SERVER);
    assert.equal(ok.statusCode, 202);
    assert.equal(ok.headers['access-control-allow-origin'], undefined);
  });

  test('503 unavailable with Retry-After when the event log fails; never 202', async () => {
    const { post, eventLog, collector } = await setup();
    eventLog.fail = true;
    const res = await post('/api/event', anEvent());
    assert.equal(res.statusCode, 503);
    assert.equal(res.headers['retry-after'], '5');
    assert.equal(res.json().error.code, 'unavailable');
    assert.equal(collector.counters.snapshot().site_1!['rejected:unavailable'], 1);
  });

  test('503 with Retry-After when the registry or its daily salt is unreachable; no salt is made up', async () => {
    const s = await setup();
    s.registry.failLookups = true;
    assert.equal((await s.post('/api/event', anEvent())).statusCode, 503);
    s.registry.failLookups = false;
    s.registry.failSalts = true;
    const res = await s.post('/api/event', anEvent());
    assert.equal(res.statusCode, 503);
    assert.equal(res.json().error.code, 'unavailable');
    assert.equal(res.headers['retry-after'], '5');
    assert.equal(s.eventLog.appended.length, 0);
    assert.deepEqual(s.collector.salts.heldDays(), [], 'nothing memoised');
    s.registry.failSalts = false;
    assert.equal((await s.post('/api/event', anEvent())).statusCode, 202);
  });
});

describe('visitor IDs across restarts and days', () => {
  const send = async (collectorOn: { post: Awaited<ReturnType<typeof setup>>['post'] }) => {
    const res = await collectorOn.post('/api/event', anEvent(), { ...BROWSER, 'x-forwarded-for': '203.0.113.9' });
    assert.equal(res.statusCode, 202);
  };

  test('a second collector (a restarted or another process) on the same registry gives the same visitor ID', async () => {
    const first = await setup({ config: { trustProxy: true } });
    await send(first);
    const app = Fastify();
    closedAfterTests(app);
    const second = createCollector({ eventLog: first.eventLog, registry: first.registry, geo: null, now: first.clock.now }, { trustProxy: true, counterFlushMs: 3_600_000 });
    second.register(app);
    await app.ready();
    const res = await app.inject({ method: 'POST', url: '/api/event', headers: { ...BROWSER, 'x-forwarded-for': '203.0.113.9' }, payload: JSON.stringify(anEvent()) });
    assert.equal(res.statusCode, 202);
    const [a, b] = first.eventLog.appended;
    assert.equal(b!.visitorId, a!.visitorId);
  });

  test('across a UTC midnight the same IP + user agent is a new visitor, as documented; one registry read per day', async () => {
    const s = await setup({ config: { trustProxy: true } });
    s.clock.set(Date.UTC(2026, 5, 15, 23, 58));
    await send(s);
    s.clock.set(Date.UTC(2026, 5, 15, 23, 59, 59, 999));
    await send(s);
    s.clock.set(Date.UTC(2026, 5, 16, 0, 0, 0, 0));
    await send(s);
    const [a, b, c] = s.eventLog.appended.map((e) => e.visitorId);
    assert.equal(b, a, 'same day, same visitor');
    assert.notEqual(c, a, 'next UTC day, new visitor');
    assert.equal(new Set([a, b, c]).size, 2, 'two visitors');
    assert.equal(s.registry.saltCalls, 2, 'the registry is read once per day, not per event');
  });
});

describe('CORS preflight', () => {
  test('any origin may preflight; the origin is enforced on the actual request', async () => {
    const { app } = await setup();
    for (const url of ['/api/event', '/api/batch']) {
      const res = await app.inject({ method: 'OPTIONS', url, headers: { origin: 'https://anyone.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
      assert.equal(res.statusCode, 204);
      assert.equal(res.headers['access-control-allow-origin'], 'https://anyone.example');
      assert.equal(res.headers['access-control-allow-methods'], 'POST');
      assert.equal(res.headers['access-control-allow-headers'], 'Content-Type, X-Almanac-Key');
      assert.equal(res.headers.vary, 'Origin');
    }
  });
});

describe('rate limit', () => {
  test('rateLimitPerSec refills, burst is 2× rate; 429 rate_limited with Retry-After in whole seconds', async () => {
    const { post, clock, collector } = await setup({ tenant: { rateLimitPerSec: 1 } });
    assert.equal((await post('/api/event', anEvent())).statusCode, 202);
    assert.equal((await post('/api/event', anEvent())).statusCode, 202);
    const res = await post('/api/event', anEvent());
    assert.equal(res.statusCode, 429);
    assert.equal(res.headers['retry-after'], '1');
    assert.equal(res.json().error.code, 'rate_limited');
    assert.equal(res.headers['access-control-allow-origin'], ORIGIN, 'the page may read the 429');
    clock.advance(1_000);
    assert.equal((await post('/api/event', anEvent())).statusCode, 202);
    assert.equal(collector.counters.snapshot().site_1!['rejected:rate_limited'], 1);
  });

  test('a batch costs one token per event', async () => {
    const { post } = await setup({ tenant: { rateLimitPerSec: 10 } });
    assert.equal((await post('/api/batch', Array.from({ length: 20 }, () => anEvent()))).statusCode, 202);
    const res = await post('/api/batch', [anEvent()]);
    assert.equal(res.statusCode, 429);
  });
});

describe('lifecycle', () => {
  test('without an injected reader the bundled DB-IP database is opened: 8.8.8.8 is US', async () => {
    const app = Fastify();
    closedAfterTests(app);
    const eventLog = createFakeEventLog();
    createCollector({ eventLog, registry: aRegistry() }, { trustProxy: true }).register(app);
    await app.inject({ method: 'POST', url: '/api/event', headers: { ...BROWSER, 'x-forwarded-for': '8.8.8.8' }, payload: JSON.stringify(anEvent()) });
    assert.equal(eventLog.appended[0]!.country, 'US');
  });

  test('failures are reported through deps.log', async () => {
    const app = Fastify();
    closedAfterTests(app);
    const lines: string[] = [];
    const eventLog = createFakeEventLog();
    eventLog.fail = true;
    createCollector({ eventLog, registry: aRegistry(), geo: null, log: (m) => lines.push(m) }).register(app);
    await app.inject({ method: 'POST', url: '/api/event', headers: BROWSER, payload: JSON.stringify(anEvent()) });
    assert.deepEqual(lines, ['collector: answered 503, event log append failed: log down']);
  });

  test('registerCollectorRoutes: counters are flushed to the registry when the app closes', async () => {
    const registry = aRegistry();
    const app = Fastify();
    const c = registerCollectorRoutes(app, { eventLog: createFakeEventLog(), registry, geo: null }, { counterFlushMs: 3_600_000 });
    const res = await app.inject({ method: 'POST', url: '/api/event', headers: BROWSER, payload: JSON.stringify(anEvent()) });
    assert.equal(res.statusCode, 202);
    await app.close();
    assert.deepEqual(registry.countsOf('site_1'), { accepted: 1 });
    await c.stop(); // idempotent
  });

  test("the collector's body parsing does not leak into the host app", async () => {
    const app = Fastify();
    closedAfterTests(app);
    createCollector({ eventLog: createFakeEventLog(), registry: aRegistry(), geo: null }).register(app);
    app.post('/other', async (req) => ({ body: req.body }));
    const res = await app.inject({ method: 'POST', url: '/other', headers: { 'content-type': 'application/json' }, payload: '{"a":1}' });
    assert.deepEqual(res.json(), { body: { a: 1 } });
  });
});

describe('robustness', () => {
  test('fuzz: arbitrary bodies and content types never crash and always answer 2xx/4xx', async () => {
    const { app } = await setup();
    const body = fc.oneof(
      fc.json(),
      fc.string(),
      fc.jsonValue().map((v) => JSON.stringify([v, v])),
      fc.record({ eventId: fc.oneof(fc.uuid(), fc.string()), trackingId: fc.oneof(fc.constant('site_1'), fc.string()), url: fc.oneof(fc.webUrl(), fc.string()), type: fc.string(), ts: fc.oneof(fc.integer(), fc.double()), props: fc.object() }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
    );
    const contentType = fc.constantFrom('text/plain', 'application/json', 'application/json; charset=utf-8', 'text/html', '');
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/api/event', '/api/batch'), body, contentType, fc.boolean(), async (url, payload, ct, withOrigin) => {
        const headers: Record<string, string> = { 'user-agent': CHROME_UA };
        if (ct) headers['content-type'] = ct;
        if (withOrigin) headers.origin = ORIGIN;
        const res = await app.inject({ method: 'POST', url, headers, payload });
        assert.ok(res.statusCode >= 200 && res.statusCode < 500, `${res.statusCode} ${res.body}`);
        if (res.statusCode >= 400) assert.equal(typeof res.json().error.code, 'string');
      }),
      { numRuns: 300 },
    );
    await fc.assert(
      fc.asyncProperty(fc.string(), fc.string(), async (d, tid) => {
        const res = await app.inject({ url: `/px.gif?d=${encodeURIComponent(d)}&tid=${encodeURIComponent(tid)}` });
        assert.equal(res.statusCode, 200);
      }),
      { numRuns: 100 },
    );
    const ok = await app.inject({ method: 'POST', url: '/api/event', headers: BROWSER, payload: JSON.stringify(anEvent()) });
    assert.equal(ok.statusCode, 202, 'still serving');
  });
});
