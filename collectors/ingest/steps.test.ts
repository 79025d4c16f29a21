/** Each intake step on its own, with plain objects for its dependencies. */
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RateLimiter, Tenant, TrackingIdRecord } from '../../core/ports/index.ts';
import type { ValidEvent } from '../validate.ts';
import { createAppendStep } from './append.ts';
import { createAuthStep } from './auth.ts';
import { createDropBotsStep } from './bots.ts';
import { createEnrichStep } from './enrich.ts';
import { createIdentifyStep } from './identify.ts';
import { createOriginStep } from './origin.ts';
import { createRateLimitStep } from './rate-limit.ts';
import { createSenderStep } from './sender.ts';
import { makeUnavailable } from './unavailable.ts';
import { createValidateStep } from './validate.ts';
import type { Admitted, Attributed, Enriched, Permitted, Received, StepResult } from './types.ts';

const NOW = Date.UTC(2030, 0, 1, 12);
const LIMITS = { maxEventAgeHours: 24, maxFutureSkewMs: 60_000 };
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const tenant: Tenant = { id: 'ten_1', name: 'Acme', status: 'active', rateLimitPerSec: 10, monthlyEventCap: null, retentionDays: 365, createdAt: 0 };
const record: TrackingIdRecord = {
  id: 'site_1', tenantId: 'ten_1', name: 'shop', allowedOrigins: ['https://shop.example'], serverKey: 'sk_key', status: 'active', respectDnt: false, createdAt: 0,
};

function recordingCounters() {
  const calls: [string | null, string, number | undefined][] = [];
  return { calls, add: (t: string | null, key: string, n?: number) => void calls.push([t, key, n]) };
}
const event = (over: Record<string, unknown> = {}) => ({ eventId: randomUUID(), trackingId: 'site_1', type: 'pageview', url: 'https://shop.example/', ts: NOW, ...over });
const received = (items: unknown[], facts: Partial<Received['facts']> = {}): Received => ({ items, facts: { ip: '8.8.8.8', userAgent: CHROME, ...facts }, receivedAt: NOW });
const admitted = (items: unknown[], facts: Partial<Received['facts']> = {}): Admitted => ({ ...received(items, facts), trackingId: 'site_1', record, tenant });
const permitted = (items: unknown[], over: Partial<Permitted> = {}): Permitted => ({ ...admitted(items), mode: 'browser', allowOrigin: 'https://shop.example', ...over });
const attributed = (valid: ValidEvent[], over: Partial<Attributed> = {}): Attributed => ({
  ...permitted(valid), valid, rejected: [], dropped: {}, ip: '8.8.8.8', userAgent: CHROME, checkBots: true, ...over,
});
const unavailable = (counters = recordingCounters()) => makeUnavailable({ counters }, { unavailableRetryAfterSec: 7 });

function outcome<T>(r: StepResult<T>) {
  assert.ok('done' in r, 'the step ends the request');
  return r.done;
}
function handedOn<T>(r: StepResult<T>): T {
  assert.ok('next' in r, 'the step hands the request on');
  return r.next;
}

describe('identify', () => {
  test('the first well-formed tracking ID is the request\'s', () => {
    const step = createIdentifyStep({ counters: recordingCounters() }, LIMITS);
    assert.equal(handedOn(step(received([{ trackingId: 'bad id!' }, event({ trackingId: 'site_2' }), event()]))).trackingId, 'site_2');
  });

  test('without any, every item is rejected and counted unattributed', () => {
    const counters = recordingCounters();
    const out = outcome(createIdentifyStep({ counters }, LIMITS)(received([{ eventId: "x" }, "junk"])));
    assert.ok(out.ok);
    assert.deepEqual(out.rejected.map((r) => [r.index, r.eventId, r.code]), [[0, 'x', 'invalid_event'], [1, null, 'invalid_event']]);
    assert.deepEqual(counters.calls, [[null, 'rejected:invalid_event', undefined], [null, 'rejected:invalid_event', undefined]]);
  });
});

describe('auth', () => {
  const identified = { ...received([event(), event()]), trackingId: 'site_1' };

  test('an unknown tracking ID is rejected and not attributed to it', async () => {
    const counters = recordingCounters();
    const step = createAuthStep({ counters, auth: { admit: async () => ({ ok: false, code: 'unknown_tracking_id', status: 404, message: 'm' }) } }, unavailable());
    const out = outcome(await step(identified));
    assert.equal(!out.ok && out.rejection.code, 'unknown_tracking_id');
    assert.deepEqual(counters.calls, [[null, 'rejected:unknown_tracking_id', 2]]);
  });

  test('a suspended tenant is counted against the tracking ID', async () => {
    const counters = recordingCounters();
    const step = createAuthStep({ counters, auth: { admit: async () => ({ ok: false, code: 'tenant_suspended', status: 403, message: 'm' }) } }, unavailable());
    outcome(await step(identified));
    assert.deepEqual(counters.calls, [['site_1', 'rejected:tenant_suspended', 2]]);
  });

  test('a registry failure answers 503 with Retry-After', async () => {
    const counters = recordingCounters();
    const step = createAuthStep({ counters, auth: { admit: async () => Promise.reject(new Error('down')) } }, unavailable(counters));
    const out = outcome(await step(identified));
    assert.ok(!out.ok);
    assert.equal(out.rejection.code, 'unavailable');
    assert.equal(out.retryAfterSec, 7);
    assert.deepEqual(counters.calls, [['site_1', 'rejected:unavailable', 2]]);
  });

  test('an admitted tracking ID carries its records on', async () => {
    const step = createAuthStep({ counters: recordingCounters(), auth: { admit: async () => ({ ok: true, trackingId: record, tenant }) } }, unavailable());
    const next = handedOn(await step(identified));
    assert.equal(next.record, record);
    assert.equal(next.tenant, tenant);
  });
});

describe('origin', () => {
  test('an allowed Origin is echoed for CORS', () => {
    const next = handedOn(createOriginStep({ counters: recordingCounters() })(admitted([event()], { origin: 'https://shop.example' })));
    assert.deepEqual([next.mode, next.allowOrigin], ['browser', 'https://shop.example']);
  });

  test('a server key makes a server sender, without CORS', () => {
    const next = handedOn(createOriginStep({ counters: recordingCounters() })(admitted([event()], { serverKey: 'sk_key', origin: 'https://shop.example' })));
    assert.deepEqual([next.mode, next.allowOrigin], ['server', undefined]);
  });

  test('another origin is rejected and counted per item', () => {
    const counters = recordingCounters();
    const out = outcome(createOriginStep({ counters })(admitted([event(), event(), event()], { origin: 'https://evil.example' })));
    assert.equal(!out.ok && out.rejection.code, 'origin_not_allowed');
    assert.deepEqual(counters.calls, [['site_1', 'rejected:origin_not_allowed', 3]]);
  });
});

describe('rate limit', () => {
  const limiter = (decision: Awaited<ReturnType<RateLimiter['take']>> | Error): RateLimiter & { asked: unknown[][] } => {
    const asked: unknown[][] = [];
    return { asked, take: async (...args) => (asked.push(args), decision instanceof Error ? Promise.reject(decision) : decision) };
  };

  test('costs one token per item, with a burst of rate × burstFactor', async () => {
    const rateLimiter = limiter({ allowed: true, retryAfterMs: 0 });
    handedOn(await createRateLimitStep({ rateLimiter, counters: recordingCounters() }, { burstFactor: 3 })(permitted([event(), event()])));
    assert.deepEqual(rateLimiter.asked, [['ingest:site_1', 2, 10, 30]]);
  });

  test('over the limit: 429 with Retry-After in whole seconds, CORS kept', async () => {
    const counters = recordingCounters();
    const out = outcome(await createRateLimitStep({ rateLimiter: limiter({ allowed: false, retryAfterMs: 1200 }), counters }, { burstFactor: 2 })(permitted([event()])));
    assert.ok(!out.ok);
    assert.deepEqual([out.rejection.code, out.retryAfterSec, out.allowOrigin], ['rate_limited', 2, 'https://shop.example']);
    assert.deepEqual(counters.calls, [['site_1', 'rejected:rate_limited', 1]]);
  });

  test('a limiter failure lets the request through (fail open)', async () => {
    handedOn(await createRateLimitStep({ rateLimiter: limiter(new Error('redis down')), counters: recordingCounters() }, { burstFactor: 2 })(permitted([event()])));
  });
});

describe('validate', () => {
  test('a repeated eventId in one request is kept once and counted as duplicate', () => {
    const counters = recordingCounters();
    const a = event();
    const next = handedOn(createValidateStep({ counters }, LIMITS)(permitted([a, { ...a }, event()])));
    assert.equal(next.valid.length, 2);
    assert.deepEqual(next.dropped, { repeated: 1 });
    assert.deepEqual(counters.calls, [['site_1', 'duplicate', 1]]);
  });

  test('an item of another tracking ID is rejected, by index', () => {
    const next = handedOn(createValidateStep({ counters: recordingCounters() }, LIMITS)(permitted([event(), event({ trackingId: 'site_2' })])));
    assert.deepEqual(next.rejected.map((r) => [r.index, r.code]), [[1, 'invalid_event']]);
    assert.match(next.rejected[0].detail ?? '', /carries one tracking ID/);
    assert.deepEqual(next.dropped, {});
  });
});

describe('sender', () => {
  const validated = (over: Partial<Permitted>, facts: Partial<Received['facts']>) => ({
    ...permitted([], over), facts: { ip: '10.0.0.1', userAgent: 'node', ...facts }, valid: [], rejected: [], dropped: {},
  });

  test('a browser is its own visitor, bot-checked', () => {
    const next = handedOn(createSenderStep()(validated({ mode: 'browser' }, { forwardedIp: '8.8.8.8', forwardedUserAgent: CHROME })));
    assert.deepEqual([next.ip, next.userAgent, next.checkBots], ['10.0.0.1', 'node', true]);
  });

  test('a server forwarding its visitor speaks for it', () => {
    const next = handedOn(createSenderStep()(validated({ mode: 'server' }, { forwardedIp: '8.8.8.8', forwardedUserAgent: CHROME })));
    assert.deepEqual([next.ip, next.userAgent, next.checkBots], ['8.8.8.8', CHROME, true]);
  });

  test('a server not forwarding a user agent is not bot-checked; a forwarded non-IP is ignored', () => {
    const next = handedOn(createSenderStep()(validated({ mode: 'server' }, { forwardedIp: 'not-an-ip' })));
    assert.deepEqual([next.ip, next.userAgent, next.checkBots], ['10.0.0.1', 'node', false]);
  });
});

describe('drop bots', () => {
  const valid = [event() as ValidEvent, event() as ValidEvent];

  test('a known bot is answered as taken, counted, and goes no further', () => {
    const counters = recordingCounters();
    const out = outcome(createDropBotsStep({ counters })(attributed(valid, { userAgent: 'curl/8.0' })));
    assert.ok(out.ok);
    assert.equal(out.accepted, 0);
    assert.equal(out.dropped.bot, 2);
    assert.ok(out.bot);
    assert.deepEqual(counters.calls, [['site_1', `bot:${out.bot}`, 2]]);
  });

  test('an unchecked user agent passes', () => {
    handedOn(createDropBotsStep({ counters: recordingCounters() })(attributed(valid, { userAgent: 'curl/8.0', checkBots: false })));
  });
});

describe('enrich and append', () => {
  const valid = [event() as ValidEvent];

  test('a salt failure answers 503, counted per valid event', async () => {
    const counters = recordingCounters();
    const step = createEnrichStep({ enricher: { enrich: async () => Promise.reject(new Error('no salt')) } }, unavailable(counters));
    const out = outcome(await step(attributed(valid)));
    assert.deepEqual(!out.ok && [out.rejection.code, out.rejection.detail, out.allowOrigin], ['unavailable', 'daily salt unavailable', 'https://shop.example']);
    assert.deepEqual(counters.calls, [['site_1', 'rejected:unavailable', 1]]);
  });

  test('nothing valid: neither the enricher nor the log is asked, and nothing is accepted', async () => {
    let asked = 0;
    const enriched = handedOn(await createEnrichStep({ enricher: { enrich: async () => (asked++, []) } }, unavailable())(attributed([])));
    const counters = recordingCounters();
    const out = handedOn(await createAppendStep({ counters, eventLog: { append: async () => void asked++ } }, unavailable())(enriched));
    assert.equal(asked, 0);
    assert.deepEqual(out, { ok: true, accepted: 0, dropped: {}, rejected: [], bot: null, allowOrigin: 'https://shop.example' });
    assert.deepEqual(counters.calls, []);
  });

  test('an append failure answers 503 and counts nothing as accepted', async () => {
    const counters = recordingCounters();
    const input: Enriched = { ...attributed(valid), events: [] };
    const out = outcome(await createAppendStep({ counters, eventLog: { append: async () => Promise.reject(new Error('kafka down')) } }, unavailable(counters))(input));
    assert.equal(!out.ok && out.rejection.detail, 'event log append failed');
    assert.deepEqual(counters.calls, [['site_1', 'rejected:unavailable', 1]]);
  });
});
