import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { validateEvent } from './validate.ts';
import { anEvent } from '../tests/support/collector-fixtures.ts';

const NOW = Date.UTC(2026, 5, 15, 12);
const LIMITS = { maxEventAgeHours: 72, maxFutureSkewMs: 10 * 60_000 };
const H = 3_600_000;

function rejected(input: unknown, now = NOW, limits = LIMITS) {
  const r = validateEvent(input, now, limits);
  assert.equal(r.ok, false, 'expected a rejection');
  return r as Extract<typeof r, { ok: false }>;
}

describe('validateEvent', () => {
  test('a minimal pageview is valid; a missing ts becomes the receive time; type defaults to pageview', () => {
    const { type, ...e } = anEvent();
    void type;
    const r = validateEvent(e, NOW, LIMITS);
    assert.ok(r.ok);
    assert.equal(r.event.ts, NOW);
    assert.equal(r.event.type, 'pageview');
  });

  test('a custom event with props and revenue is valid', () => {
    const r = validateEvent(anEvent({ type: 'event', name: 'Signup', props: { plan: 'pro', seats: 3 }, revenue: { amount: 12.5, currency: 'EUR' }, ts: NOW - H }), NOW, LIMITS);
    assert.ok(r.ok);
    assert.equal(r.event.ts, NOW - H);
  });

  test('schema failures are invalid_event with a detail naming the field and the fix', () => {
    const cases: [unknown, RegExp][] = [
      ['hello', /event: send a JSON object, not a string/],
      [[anEvent()], /not an array/],
      [{}, /eventId: is required.*trackingId: is required.*url: is required/],
      [anEvent({ url: 'not a url' }), /^url: url must be an absolute URL/],
      [anEvent({ eventId: '123' }), /^eventId: eventId must be a UUID/],
      [anEvent({ trackingId: 'has space' }), /^trackingId: /],
      [anEvent({ type: 'event' }), /^name: a custom event .* needs a name/],
      [anEvent({ name: 'x' }), /^name: a pageview has no name/],
      [anEvent({ type: 'click' }), /^type: must be one of "pageview", "event"/],
      [anEvent({ title: 'x'.repeat(513) }), /^title: at most 512 characters/],
      [anEvent({ props: { k: 'v'.repeat(257) } }), /^props\.k: at most 256 characters/],
      [anEvent({ props: { k: { nested: true } } }), /^props\.k: must be a string .* or a finite number/],
      [anEvent({ revenue: { amount: 5, currency: 'eur' } }), /^revenue\.currency: currency is an ISO 4217 code/],
      [anEvent({ colour: 'red' }), /unknown field "colour"; remove it \(custom data goes in props\)/],
      [anEvent({ ts: 1.5 }), /^ts: milliseconds since the epoch/],
      [anEvent({ ts: -1 }), /^ts: milliseconds since the epoch/],
    ];
    for (const [input, detail] of cases) {
      const r = rejected(input);
      assert.equal(r.code, 'invalid_event', JSON.stringify(input));
      assert.equal(r.status, 400);
      assert.match(r.detail ?? '', detail, JSON.stringify(input));
    }
  });

  test('the detail names at most three issues', () => {
    const r = rejected({ a: 1, eventId: 1, trackingId: 2, url: 3, type: 4, title: 5 });
    assert.match(r.detail ?? '', /and \d+ more$/);
  });

  test('more than 10 min in the future is timestamp_in_future', () => {
    const r = rejected(anEvent({ ts: NOW + 10 * 60_000 + 1 }));
    assert.equal(r.code, 'timestamp_in_future');
    assert.match(r.detail ?? '', /ahead of the collector clock/);
  });

  test('small future skew is clamped to the receive time', () => {
    const r = validateEvent(anEvent({ ts: NOW + 5 * 60_000 }), NOW, LIMITS);
    assert.ok(r.ok);
    assert.equal(r.event.ts, NOW);
  });

  test('older than maxEventAgeHours is timestamp_too_old; the limit is configurable', () => {
    assert.equal(rejected(anEvent({ ts: NOW - 73 * H })).code, 'timestamp_too_old');
    assert.ok(validateEvent(anEvent({ ts: NOW - 71 * H }), NOW, LIMITS).ok);
    assert.equal(rejected(anEvent({ ts: NOW - 2 * H }), NOW, { ...LIMITS, maxEventAgeHours: 1 }).code, 'timestamp_too_old');
  });

  test('a timestamp in seconds gets a hint', () => {
    const r = rejected(anEvent({ ts: Math.floor(NOW / 1000) }));
    assert.equal(r.code, 'timestamp_too_old');
    assert.match(r.detail ?? '', /looks like seconds/);
  });
});
