/** The collector over HTTP: batches and bot filtering. */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CHROME_UA, anEvent } from '../tests/support/collector-fixtures.ts';
import { BROWSER, ORIGIN, SERVER, setup, closeCollectorApps } from '../tests/support/collector-app.ts';

after(closeCollectorApps);

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
