import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DAY_MS } from '../../core/time.ts';
import { CHROME_UA, IPHONE_UA, anEvent, aRegistry } from '../../tests/support/collector-fixtures.ts';
import { manualClock } from '../../tests/support/fakes/clock.ts';
import type { ValidEvent } from '../validate.ts';
import {
  SALT_MAX_AGE_MS,
  countryOf,
  createEnricher,
  createSaltSource,
  createUaParser,
  detectBot,
  oldestSaltDayToKeep,
  openGeoReader,
  parseUserAgent,
  referrerSource,
  splitUrl,
  visitorId,
} from './index.ts';

describe('user agent', () => {
  test('browser, OS and device class', () => {
    assert.deepEqual(parseUserAgent(CHROME_UA), { browser: 'Chrome', os: 'Windows', device: 'desktop' });
    assert.deepEqual(parseUserAgent(IPHONE_UA), { browser: 'Mobile Safari', os: 'iOS', device: 'mobile' });
    const ipad = 'Mozilla/5.0 (iPad; CPU OS 13_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0.3 Mobile/15E148 Safari/604.1';
    assert.equal(parseUserAgent(ipad).device, 'tablet');
    const mac = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15';
    assert.deepEqual(parseUserAgent(mac), { browser: 'Safari', os: 'Mac OS', device: 'desktop' });
    const tv = 'Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36';
    assert.equal(parseUserAgent(tv).device, 'other');
    assert.deepEqual(parseUserAgent('???'), { browser: '', os: '', device: 'other' });
  });

  test('the memoised parser returns the same result object for a repeated UA', () => {
    const parse = createUaParser(10);
    assert.equal(parse(CHROME_UA), parse(CHROME_UA));
    assert.deepEqual(parse(IPHONE_UA), parseUserAgent(IPHONE_UA));
  });
});

describe('bot detection', () => {
  test('reasons', () => {
    assert.equal(detectBot(''), 'empty_ua');
    assert.equal(detectBot('   '), 'empty_ua');
    assert.equal(detectBot(undefined), 'empty_ua');
    assert.equal(detectBot('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36'), 'headless');
    assert.equal(detectBot('Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'), 'ua_pattern');
    assert.equal(detectBot('curl/8.5.0'), 'ua_pattern');
    assert.equal(detectBot(CHROME_UA), null);
    assert.equal(detectBot(IPHONE_UA), null);
  });
});

describe('geo', () => {
  test('the shipped DB-IP database resolves public IPs, and private ones to ""', async () => {
    const reader = await openGeoReader();
    assert.equal(countryOf(reader, '8.8.8.8'), 'US');
    assert.equal(countryOf(reader, '::ffff:8.8.8.8'), 'US');
    assert.match(countryOf(reader, '2001:4860:4860::8888'), /^[A-Z]{2}$/);
    assert.equal(countryOf(reader, '127.0.0.1'), '');
    assert.equal(countryOf(reader, '10.1.2.3'), '');
    assert.equal(countryOf(reader, 'not-an-ip'), '');
    assert.equal(countryOf(null, '8.8.8.8'), '');
  });

  test('GeoLite2-shaped records and throwing readers', () => {
    assert.equal(countryOf({ get: () => ({ country: { iso_code: 'DE' } }) }, '1.2.3.4'), 'DE');
    assert.equal(countryOf({ get: () => { throw new Error('corrupt'); } }, '1.2.3.4'), '');
  });
});

describe('url fields', () => {
  test('host/path split and UTM parameters', () => {
    const p = splitUrl('https://WWW.Shop.example:8443/a/b?utm_source=news&utm_medium=email&utm_campaign=spring&utm_term=shoes&utm_content=hero&x=1#frag');
    assert.deepEqual(p, { host: 'www.shop.example', path: '/a/b', utmSource: 'news', utmMedium: 'email', utmCampaign: 'spring', utmTerm: 'shoes', utmContent: 'hero' });
    assert.equal(splitUrl('https://shop.example').path, '/');
    assert.equal(splitUrl('https://shop.example/?utm_source=').utmSource, '');
  });

  test('referrer source: other site host, "" for same site, empty or junk', () => {
    assert.equal(referrerSource('https://news.ycombinator.com/item?id=1', 'shop.example'), 'news.ycombinator.com');
    assert.equal(referrerSource('https://www.google.com/', 'shop.example'), 'google.com');
    assert.equal(referrerSource('https://shop.example/cart', 'shop.example'), '');
    assert.equal(referrerSource('https://www.shop.example/cart', 'shop.example'), '');
    assert.equal(referrerSource('', 'shop.example'), '');
    assert.equal(referrerSource(undefined, 'shop.example'), '');
    assert.equal(referrerSource('android-app://', 'shop.example'), '');
    assert.equal(referrerSource('not a url', 'shop.example'), '');
  });
});

describe('visitor ID and salts', () => {
  const salt = 'ab'.repeat(32);

  test('visitorId is 16 bytes of hex, stable for the same inputs, different when any input changes', () => {
    const id = visitorId(salt, 'site_1', '1.2.3.4', CHROME_UA);
    assert.match(id, /^[0-9a-f]{32}$/);
    assert.equal(visitorId(salt, 'site_1', '1.2.3.4', CHROME_UA), id);
    assert.notEqual(visitorId('cd'.repeat(32), 'site_1', '1.2.3.4', CHROME_UA), id);
    assert.notEqual(visitorId(salt, 'site_2', '1.2.3.4', CHROME_UA), id);
    assert.notEqual(visitorId(salt, 'site_1', '1.2.3.5', CHROME_UA), id);
    assert.notEqual(visitorId(salt, 'site_1', '1.2.3.4', IPHONE_UA), id);
  });

  test('two collectors (processes) sharing a registry get the same salt for a day; days differ', async () => {
    const clock = manualClock();
    const registry = aRegistry();
    const a = createSaltSource(registry);
    const b = createSaltSource(registry);
    const [sa, sb] = await Promise.all([a.saltFor(clock.now()), b.saltFor(clock.now())]);
    assert.match(sa, /^[0-9a-f]{64}$/);
    assert.equal(sa, sb);
    assert.deepEqual([...registry.salts.keys()], [Date.UTC(2026, 5, 15)], 'kept in the registry under its UTC day');
    const tomorrow = await a.saltFor(clock.now() + DAY_MS);
    assert.notEqual(tomorrow, sa);
    assert.equal(await b.saltFor(clock.now() + DAY_MS), tomorrow);
  });

  test('regression: a restarted process (new salt source, same registry) gets the same salt, so the same visitor ID', async () => {
    const clock = manualClock();
    const registry = aRegistry();
    const before = await createSaltSource(registry).saltFor(clock.now());
    const after = await createSaltSource(registry).saltFor(clock.now() + 3_600_000);
    assert.equal(after, before);
    assert.equal(visitorId(after, 'site_1', '1.2.3.4', CHROME_UA), visitorId(before, 'site_1', '1.2.3.4', CHROME_UA));
  });

  test('the salt is memoised per day in-process: one registry call per day', async () => {
    const registry = aRegistry();
    const s = createSaltSource(registry);
    const t = Date.UTC(2026, 0, 1, 1);
    await Promise.all([s.saltFor(t), s.saltFor(t + 1000), s.saltFor(t + 3_600_000)]);
    await s.saltFor(t + 20 * 3_600_000);
    assert.equal(registry.saltCalls, 1);
  });

  test('a registry failure is not memoised, and no salt is made up meanwhile', async () => {
    const registry = aRegistry();
    const s = createSaltSource(registry);
    registry.failSalts = true;
    await assert.rejects(s.saltFor(0));
    assert.deepEqual(s.heldDays(), []);
    registry.failSalts = false;
    assert.match(await s.saltFor(0), /^[0-9a-f]{64}$/);
    assert.equal(registry.saltCalls, 2);
  });

  test('no in-process salt is kept once its day began 48 h ago, even without traffic', async () => {
    assert.equal(SALT_MAX_AGE_MS, 48 * 3_600_000);
    const registry = aRegistry();
    const s = createSaltSource(registry);
    const day = Date.UTC(2026, 0, 1);
    await s.saltFor(day + 3_600_000);
    await s.saltFor(day + DAY_MS + 3_600_000);
    s.forget(day + SALT_MAX_AGE_MS - 1);
    assert.deepEqual(s.heldDays(), [day, day + DAY_MS]);
    s.forget(day + SALT_MAX_AGE_MS + 1);
    assert.deepEqual(s.heldDays(), [day + DAY_MS]);
    // Looking only every minute: a salt goes a minute early rather than a minute late.
    s.forget(day + DAY_MS + SALT_MAX_AGE_MS - 30_000, 60_000);
    assert.deepEqual(s.heldDays(), []);
    assert.equal(oldestSaltDayToKeep(day + SALT_MAX_AGE_MS), day);
  });
});

describe('createEnricher', () => {
  test('produces a full EnrichedEvent', async () => {
    const clock = manualClock();
    const enricher = createEnricher({ salts: createSaltSource(aRegistry()), geo: { get: (ip) => (ip === '8.8.8.8' ? { country_code: 'US' } : null) } });
    const e: ValidEvent = { ...anEvent({ url: 'https://shop.example/p/1?utm_source=news&utm_campaign=x', referrer: 'https://www.bing.com/search', title: 'P1' }), ts: clock.now() - 1000 } as ValidEvent;
    const custom: ValidEvent = { ...anEvent({ type: 'event', name: 'Buy', props: { sku: 'A1' }, revenue: { amount: 10, currency: 'USD' } }), ts: clock.now() } as ValidEvent;
    const [pv, ev] = await enricher.enrich([e, custom], { ip: '8.8.8.8', userAgent: IPHONE_UA, receivedAt: clock.now() });
    assert.deepEqual(
      { ...pv, visitorId: undefined },
      {
        eventId: e.eventId, trackingId: 'site_1', type: 'pageview', name: '', url: e.url, host: 'shop.example', path: '/p/1',
        referrer: 'https://www.bing.com/search', source: 'bing.com', title: 'P1', ts: clock.now() - 1000, receivedAt: clock.now(),
        props: {}, revenue: null, visitorId: undefined, browser: 'Mobile Safari', os: 'iOS', device: 'mobile', country: 'US',
        utmSource: 'news', utmMedium: '', utmCampaign: 'x', utmTerm: '', utmContent: '',
      },
    );
    assert.match(pv!.visitorId, /^[0-9a-f]{32}$/);
    assert.equal(ev!.visitorId, pv!.visitorId, 'one request, one visitor');
    assert.equal(ev!.name, 'Buy');
    assert.deepEqual(ev!.revenue, { amount: 10, currency: 'USD' });
    assert.deepEqual(ev!.props, { sku: 'A1' });
  });

  test('the same visitor gets a new ID the next UTC day', async () => {
    const clock = manualClock();
    const enricher = createEnricher({ salts: createSaltSource(aRegistry()) });
    const e = { ...anEvent(), ts: clock.now() } as ValidEvent;
    const ctx = { ip: '1.2.3.4', userAgent: CHROME_UA, receivedAt: clock.now() };
    const [a] = await enricher.enrich([e], ctx);
    const [b] = await enricher.enrich([e], { ...ctx, receivedAt: clock.now() + 60_000 });
    const [c] = await enricher.enrich([e], { ...ctx, receivedAt: clock.now() + DAY_MS });
    assert.equal(a!.visitorId, b!.visitorId);
    assert.notEqual(a!.visitorId, c!.visitorId);
    assert.equal(a!.country, '', 'no geo reader, no country');
  });
});
