import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify';
import fc from 'fast-check';
import type { CollectorConfigInput } from './config.ts';
import { createCollector, registerCollectorRoutes, type Collector } from './http.ts';
import { pixelEvent } from './pixel.ts';
import { clientIp } from './request.ts';
import { CHROME_UA, aTenant, aTrackingId, anEvent, aRegistry } from '../tests/support/collector-fixtures.ts';
import { manualClock } from '../tests/support/fakes/clock.ts';
import { createFakeEventLog } from '../tests/support/fakes/event-log.ts';

const ORIGIN = 'https://shop.example';
const BROWSER = { origin: ORIGIN, 'user-agent': CHROME_UA, 'content-type': 'text/plain;charset=UTF-8' };
const SERVER = { 'x-almanac-key': 'sk_secret_key', 'user-agent': 'node', 'content-type': 'application/json' };
const GEO = { get: (ip: string) => ({ '8.8.8.8': { country_code: 'US' }, '81.2.69.142': { country_code: 'GB' } })[ip] ?? null };

const apps: FastifyInstance[] = [];
after(async () => {
  await Promise.all(apps.map((a) => a.close()));
});

async function setup(opts: { config?: CollectorConfigInput; tenant?: Parameters<typeof aTenant>[0]; trackingIds?: ReturnType<typeof aTrackingId>[] } = {}) {
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
    apps.push(app);
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

describe('POST /api/batch', () => {
  test('partial acceptance: valid events are all appended; rejections are listed by index; duplicates collapse', async () => {
    const { post, eventLog, collector } = await setup();
    const a = anEvent();
    const b = anEvent({ type: 'event', name: 'Signup' });
    const c = anEvent({ url: '/x' });
    const d = anEvent({ trackingId: 'site_2' });
    const e = anEvent({ ts: 1 });
    const res = await post('/api/batch', [a, b, c, a, d, { ...b }, e, 'junk']);
    assert.equal(res.statusCode, 202);
    const body = res.json();
    assert.equal(body.accepted, 2);
    assert.deepEqual(body.dropped, { repeated: 2 }, 'repeats of an eventId within the request are kept once');
    assert.deepEqual(
      body.rejected.map((r: { index: number; eventId: string | null; code: string }) => [r.index, r.eventId, r.code]),
      [
        [2, c.eventId, 'invalid_event'],
        [4, d.eventId, 'invalid_event'],
        [6, e.eventId, 'timestamp_too_old'],
        [7, null, 'invalid_event'],
      ],
    );
    assert.match(body.rejected[1].detail, /one tracking ID \("site_1"/);
    assert.ok(body.rejected.every((r: { message: string }) => r.message.length > 0));
    assert.deepEqual(eventLog.appended.map((x) => x.eventId).sort(), [a.eventId, b.eventId].sort());
    assert.deepEqual(collector.counters.snapshot().site_1, { 'rejected:invalid_event': 3, 'rejected:timestamp_too_old': 1, duplicate: 2, accepted: 2 });
  });

  test('{"events":[...]} is accepted too', async () => {
    const { post, eventLog } = await setup();
    const res = await post('/api/batch', { events: [anEvent(), anEvent()] });
    assert.equal(res.statusCode, 202);
    assert.deepEqual(res.json(), { accepted: 2, rejected: [] });
    assert.equal(eventLog.appended.length, 2);
  });

  test('no "duplicates" field claims 0 for resent event IDs the collector cannot recognise; accepted = appended', async () => {
    const { post, eventLog } = await setup();
    const events = [anEvent(), anEvent()];
    assert.deepEqual((await post('/api/batch', events)).json(), { accepted: 2, rejected: [] });
    // The same IDs again, in a later request: the aggregator drops them (seen-ID set); the
    // collector only appends, and says so — it does not answer a duplicates count it cannot know.
    const again = await post('/api/batch', events);
    assert.equal(again.statusCode, 202);
    assert.deepEqual(again.json(), { accepted: 2, rejected: [] });
    assert.equal(eventLog.appended.length, 4);
  });

  test('all rejected: 400 with the same shape plus "error"', async () => {
    const { post, eventLog } = await setup();
    const res = await post('/api/batch', [anEvent({ url: 'x' }), anEvent({ ts: 1 })]);
    assert.equal(res.statusCode, 400);
    const body = res.json();
    assert.equal(body.accepted, 0);
    assert.equal(body.rejected.length, 2);
    assert.equal(body.error.code, 'invalid_event');
    assert.equal(eventLog.calls, 0);
    const none = await post('/api/batch', [{}, { trackingId: 7 }]);
    assert.equal(none.statusCode, 400);
    assert.match(none.json().rejected[0].detail, /trackingId: is required/);
  });

  test('empty, too many, not an array, too large', async () => {
    const { post } = await setup();
    assert.equal((await post('/api/batch', [])).json().error.code, 'batch_empty');
    const big = await post('/api/batch', Array.from({ length: 501 }, () => ({})));
    assert.equal(big.statusCode, 413);
    assert.equal(big.json().error.code, 'batch_too_large');
    const obj = await post('/api/batch', { event: anEvent() });
    assert.equal(obj.statusCode, 400);
    assert.equal(obj.json().error.code, 'invalid_event');
    // 1 MiB default for batches: 200 events of ~4 KiB pass the body limit, 2 MiB does not
    const fat = await post('/api/batch', Array.from({ length: 200 }, () => anEvent({ title: 'x'.repeat(400) })));
    assert.equal(fat.statusCode, 202);
    const huge = await post('/api/batch', 'x'.repeat(2 * 1024 * 1024));
    assert.equal(huge.statusCode, 413);
    assert.equal(huge.json().error.code, 'body_too_large');
  });

  test('500 events in one request', async () => {
    const { post, eventLog } = await setup();
    const res = await post('/api/batch', Array.from({ length: 500 }, () => anEvent()));
    assert.equal(res.statusCode, 202);
    assert.equal(eventLog.appended.length, 500);
    assert.equal(eventLog.calls, 1, 'one append per request');
  });
});

describe('bots', () => {
  test('bot requests get 202 but are not appended, counted per reason', async () => {
    const { post, eventLog, collector } = await setup();
    const headless = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36';
    const one = await post('/api/event', anEvent(), { ...BROWSER, 'user-agent': headless });
    assert.equal(one.statusCode, 202);
    // The bug: bot events were answered as accepted although they are dropped.
    assert.deepEqual(one.json(), { accepted: 0, dropped: { bot: 1 } });
    const batch = await post('/api/batch', [anEvent(), anEvent()], { ...BROWSER, 'user-agent': 'Googlebot/2.1 (+http://www.google.com/bot.html)' });
    assert.equal(batch.statusCode, 202);
    assert.deepEqual(batch.json(), { accepted: 0, rejected: [], dropped: { bot: 2 } });
    assert.equal((await post('/api/event', anEvent(), { origin: ORIGIN, 'content-type': 'text/plain', 'user-agent': '' })).statusCode, 202);
    assert.equal(eventLog.appended.length, 0);
    assert.deepEqual(collector.counters.snapshot().site_1, { 'bot:headless': 1, 'bot:ua_pattern': 2, 'bot:empty_ua': 1 });
  });

  test('a bot batch with a rejected event is still 202: its valid events were taken (dropped), not refused', async () => {
    const { post } = await setup();
    const res = await post('/api/batch', [anEvent(), anEvent({ url: 'x' })], { ...BROWSER, 'user-agent': 'Googlebot/2.1' });
    assert.equal(res.statusCode, 202);
    assert.equal(res.json().accepted, 0);
    assert.deepEqual(res.json().dropped, { bot: 1 });
    assert.equal(res.json().rejected.length, 1);
  });

  test("server-side: the sender's own UA is not bot-checked; a forwarded visitor UA and IP are used", async () => {
    const { post, eventLog, collector } = await setup();
    assert.equal((await post('/api/event', anEvent(), { ...SERVER, 'user-agent': 'curl/8.5.0' })).statusCode, 202);
    assert.equal(eventLog.appended.length, 1);
    assert.equal((await post('/api/event', anEvent(), { ...SERVER, 'x-almanac-user-agent': 'Googlebot/2.1' })).statusCode, 202);
    assert.equal(eventLog.appended.length, 1);
    await post('/api/event', anEvent(), { ...SERVER, 'x-almanac-user-agent': CHROME_UA, 'x-almanac-client-ip': '81.2.69.142' });
    assert.equal(eventLog.appended[1]!.country, 'GB');
    assert.equal(eventLog.appended[1]!.browser, 'Chrome');
    assert.equal(collector.counters.snapshot().site_1!['bot:ua_pattern'], 1);
  });

  test('browsers cannot pick their IP with X-Almanac-Client-IP', async () => {
    const { post, eventLog } = await setup();
    await post('/api/event', anEvent(), { ...BROWSER, 'x-almanac-client-ip': '81.2.69.142' });
    assert.equal(eventLog.appended[0]!.country, '');
  });
});

describe('client IP', () => {
  test('X-Forwarded-For is used only with trustProxy', async () => {
    const trusted = await setup({ config: { trustProxy: true } });
    await trusted.post('/api/event', anEvent(), { ...BROWSER, 'x-forwarded-for': '8.8.8.8, 10.0.0.1' });
    assert.equal(trusted.eventLog.appended[0]!.country, 'US');
    const direct = await setup();
    await direct.post('/api/event', anEvent(), { ...BROWSER, 'x-forwarded-for': '8.8.8.8' });
    assert.equal(direct.eventLog.appended[0]!.country, '');
  });

  test('clientIp normalises', () => {
    assert.equal(clientIp('::ffff:8.8.8.8', undefined, false), '8.8.8.8');
    assert.equal(clientIp('127.0.0.1', '8.8.8.8:443, 1.1.1.1', true), '8.8.8.8');
    assert.equal(clientIp('127.0.0.1', '[2001:db8::1]:443', true), '2001:db8::1');
    assert.equal(clientIp('127.0.0.1', 'garbage', true), '127.0.0.1');
    assert.equal(clientIp(undefined, undefined, false), '');
  });
});

describe('GET /px.gif', () => {
  const gif = (res: { statusCode: number; headers: Record<string, unknown>; rawPayload: Buffer }) => {
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'image/gif');
    assert.match(String(res.headers['cache-control']), /no-store/);
    assert.equal(res.rawPayload.subarray(0, 6).toString(), 'GIF89a');
  };

  test('a base64url JSON event with an allowed Referer is appended', async () => {
    const { app, eventLog } = await setup();
    const e = anEvent();
    const d = Buffer.from(JSON.stringify(e)).toString('base64url');
    gif(await app.inject({ url: `/px.gif?d=${d}`, headers: { referer: 'https://shop.example/page', 'user-agent': CHROME_UA } }));
    assert.equal(eventLog.appended[0]!.eventId, e.eventId);
  });

  test('short parameters; url defaults to the Referer, eventId is generated', async () => {
    const { app, eventLog } = await setup();
    gif(await app.inject({ url: '/px.gif?tid=site_1&n=Newsletter%20Open', headers: { referer: 'https://shop.example/mail', 'user-agent': CHROME_UA } }));
    const got = eventLog.appended[0]!;
    assert.equal(got.type, 'event');
    assert.equal(got.name, 'Newsletter Open');
    assert.equal(got.url, 'https://shop.example/mail');
    assert.match(got.eventId, /^[0-9a-f-]{36}$/);
  });

  test('URL-encoded JSON in d', async () => {
    const { app, eventLog } = await setup();
    gif(await app.inject({ url: `/px.gif?d=${encodeURIComponent(JSON.stringify(anEvent()))}`, headers: { referer: 'https://shop.example/', 'user-agent': CHROME_UA } }));
    assert.equal(eventLog.appended.length, 1);
  });

  test('rejections still get the GIF and are counted', async () => {
    const { app, eventLog, collector } = await setup();
    gif(await app.inject({ url: '/px.gif?d=%7Bnot-json', headers: { 'user-agent': CHROME_UA } }));
    gif(await app.inject({ url: '/px.gif?tid=site_1&u=https://shop.example/', headers: { 'user-agent': CHROME_UA, referer: 'https://evil.example/' } }));
    gif(await app.inject({ url: '/px.gif', headers: { 'user-agent': CHROME_UA } }));
    assert.equal(eventLog.appended.length, 0);
    assert.equal(collector.counters.snapshot()['']!['rejected:malformed_json'], 1);
    assert.equal(collector.counters.snapshot().site_1!['rejected:origin_not_allowed'], 1);
  });

  test('pixelEvent keeps the first of repeated parameters', () => {
    const r = pixelEvent({ tid: ['a', 'b'], u: 'https://x.example/' }, undefined);
    assert.ok(r.ok);
    assert.equal((r.value as { trackingId: string }).trackingId, 'a');
  });
});

describe('GET /tracker.js', () => {
  test('serves the tracker with cache headers, gzip when accepted, 304 on a matching ETag', async () => {
    const { app } = await setup();
    const plain = await app.inject({ url: '/tracker.js' });
    assert.equal(plain.statusCode, 200);
    assert.match(String(plain.headers['content-type']), /^application\/javascript/);
    assert.equal(plain.headers['cache-control'], 'public, max-age=3600');
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.match(plain.body, /\/api\/event/);
    const gz = await app.inject({ url: '/tracker.js', headers: { 'accept-encoding': 'gzip, deflate, br' } });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(gunzipSync(gz.rawPayload).toString(), plain.body);
    assert.ok(gz.rawPayload.length < 2048);
    const again = await app.inject({ url: '/tracker.js', headers: { 'if-none-match': String(plain.headers.etag) } });
    assert.equal(again.statusCode, 304);
  });
});

describe('lifecycle', () => {
  test('without an injected reader the bundled DB-IP database is opened: 8.8.8.8 is US', async () => {
    const app = Fastify();
    apps.push(app);
    const eventLog = createFakeEventLog();
    createCollector({ eventLog, registry: aRegistry() }, { trustProxy: true }).register(app);
    await app.inject({ method: 'POST', url: '/api/event', headers: { ...BROWSER, 'x-forwarded-for': '8.8.8.8' }, payload: JSON.stringify(anEvent()) });
    assert.equal(eventLog.appended[0]!.country, 'US');
  });

  test('failures are reported through deps.log', async () => {
    const app = Fastify();
    apps.push(app);
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
    apps.push(app);
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
