/** The collector over HTTP: the pixel, the tracker script and the client IP. */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { pixelEvent } from './pixel.ts';
import { clientIp } from './request.ts';
import { CHROME_UA, anEvent } from '../tests/support/collector-fixtures.ts';
import { BROWSER, setup, closeCollectorApps } from '../tests/support/collector-app.ts';

after(closeCollectorApps);

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
