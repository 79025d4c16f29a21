import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import vm from 'node:vm';
import { buildTracker, getTracker } from './build.ts';
import { snippetFor } from './snippet.ts';

/** Runs the built tracker against a minimal fake browser and records what it sends. */
function runTracker(code: string, opts: { dataset?: Record<string, string>; href?: string; dnt?: string; beacon?: boolean; webdriver?: boolean; queued?: unknown[][] } = {}) {
  const sent: { via: string; url: string; body: Record<string, unknown> }[] = [];
  const listeners: Record<string, ((e: unknown) => void)[]> = {};
  const on = (type: string, fn: (e: unknown) => void) => (listeners[type] ??= []).push(fn);
  const location = new URL(opts.href ?? 'https://shop.example/home?x=1');
  const history = {
    pushState(_s: unknown, _t: string, url: string) {
      const u = new URL(url, location.href);
      location.pathname = u.pathname;
      location.search = u.search;
    },
    replaceState(_s: unknown, _t: string, url: string) {
      history.pushState(_s, _t, url);
    },
  };
  const win: Record<string, unknown> = {
    addEventListener: on,
    almanac: opts.queued ? Object.assign(() => {}, { q: opts.queued }) : undefined,
  };
  const sandbox = {
    window: win,
    document: { currentScript: { src: 'https://collector.example/tracker.js', dataset: opts.dataset ?? { trackingId: 'site_1' } }, referrer: 'https://news.example/', title: 'Home', addEventListener: on },
    navigator: {
      doNotTrack: opts.dnt,
      webdriver: opts.webdriver ?? false,
      sendBeacon: opts.beacon === false ? undefined : (url: string, body: string) => (sent.push({ via: 'beacon', url, body: JSON.parse(body) }), true),
    },
    location,
    history,
    crypto: { randomUUID: () => '3f2b8f0e-8d1a-4c3b-9a41-0c9a2e7b5d11' },
    fetch: async (url: string, init: { body: string; keepalive: boolean }) => (sent.push({ via: `fetch keepalive=${init.keepalive}`, url, body: JSON.parse(init.body) }), {}),
    URL,
  };
  vm.runInNewContext(code, sandbox);
  const click = (a: Record<string, unknown>, type = 'click', button = 0) => {
    for (const fn of listeners[type] ?? []) fn({ type, button, target: { closest: () => a } });
  };
  return { sent, win, history, location, listeners, click };
}

const link = (href: string) => {
  const u = new URL(href);
  return { href: u.href, pathname: u.pathname, host: u.host, protocol: u.protocol };
};

describe('tracker', () => {
  test('builds to a minified IIFE under 2 KB gzipped', async () => {
    const t = await buildTracker();
    assert.ok(t.gzip.length < 2048, `gzip size ${t.gzip.length}`);
    assert.ok(!t.code.includes('\n  '), 'minified');
    assert.match(t.etag, /^"[\w-]+"$/);
    assert.equal(await getTracker(), await getTracker(), 'memoised');
  });

  test('sends a pageview on load with sendBeacon to data-api (or the script origin)', async () => {
    const { code } = await getTracker();
    const { sent } = runTracker(code);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.via, 'beacon');
    assert.equal(sent[0]!.url, 'https://collector.example/api/event');
    assert.deepEqual(sent[0]!.body, { eventId: '3f2b8f0e-8d1a-4c3b-9a41-0c9a2e7b5d11', trackingId: 'site_1', type: 'pageview', url: 'https://shop.example/home?x=1', referrer: 'https://news.example/', title: 'Home' });
    const other = runTracker(code, { dataset: { trackingId: 'site_1', api: 'https://a.example/' } });
    assert.equal(other.sent[0]!.url, 'https://a.example/api/event');
  });

  test('falls back to fetch keepalive without sendBeacon', async () => {
    const { sent } = runTracker((await getTracker()).code, { beacon: false });
    assert.equal(sent[0]!.via, 'fetch keepalive=true');
  });

  test('SPA navigation: pushState/replaceState/popstate send a pageview when the page changes', async () => {
    const r = runTracker((await getTracker()).code);
    r.history.pushState({}, '', '/products');
    r.history.replaceState({}, '', '/products'); // same page: not counted again
    r.history.pushState({}, '', '/products?page=2');
    r.location.pathname = '/home';
    r.location.search = '?x=1';
    for (const fn of r.listeners.popstate ?? []) fn({});
    assert.deepEqual(r.sent.map((s) => s.body.url), ['https://shop.example/home?x=1', 'https://shop.example/products', 'https://shop.example/products?page=2', 'https://shop.example/home?x=1']);
  });

  test('custom events, including calls queued before load', async () => {
    const r = runTracker((await getTracker()).code, { queued: [['event', 'Early', { props: { a: 1 } }]] });
    (r.win.almanac as (...a: unknown[]) => void)('event', 'Signup', { props: { plan: 'pro' }, revenue: { amount: 9, currency: 'EUR' } });
    const events = r.sent.filter((s) => s.body.type === 'event').map((s) => s.body);
    assert.deepEqual(events.map((e) => [e.name, e.props, e.revenue]), [
      ['Early', { a: 1 }, undefined],
      ['Signup', { plan: 'pro' }, { amount: 9, currency: 'EUR' }],
    ]);
  });

  test('outbound links and file downloads', async () => {
    const r = runTracker((await getTracker()).code);
    r.click(link('https://elsewhere.example/x'));
    r.click(link('https://shop.example/files/report.PDF'));
    r.click(link('https://shop.example/about')); // internal: nothing
    r.click(link('https://elsewhere.example/y'), 'auxclick', 1); // middle click
    r.click(link('https://elsewhere.example/z'), 'auxclick', 2); // right click: nothing
    const events = r.sent.filter((s) => s.body.type === 'event').map((s) => [s.body.name, s.body.props]);
    assert.deepEqual(events, [
      ['Outbound Link: Click', { url: 'https://elsewhere.example/x' }],
      ['File Download', { url: 'https://shop.example/files/report.PDF' }],
      ['Outbound Link: Click', { url: 'https://elsewhere.example/y' }],
    ]);
  });

  test('Do-Not-Track (when asked), localhost (unless allowed) and automation send nothing', async () => {
    const { code } = await getTracker();
    assert.equal(runTracker(code, { dataset: { trackingId: 'site_1', respectDnt: 'true' }, dnt: '1' }).sent.length, 0);
    assert.equal(runTracker(code, { dnt: '1' }).sent.length, 1, 'DNT only when data-respect-dnt is set');
    assert.equal(runTracker(code, { href: 'http://localhost:3000/' }).sent.length, 0);
    assert.equal(runTracker(code, { href: 'http://127.0.0.1:8080/' }).sent.length, 0);
    assert.equal(runTracker(code, { href: 'http://app.localhost/' }).sent.length, 0);
    // Regression: hosts that merely start with "localhost" or "127." are real sites.
    for (const href of ['https://localhostel.com/', 'https://localhost.shop.example/', 'https://127.example.com/']) {
      assert.equal(runTracker(code, { href }).sent.length, 1, href);
    }
    assert.equal(runTracker(code, { href: 'http://localhost:3000/', dataset: { trackingId: 'site_1', allowLocalhost: '' } }).sent.length, 1);
    assert.equal(runTracker(code, { webdriver: true }).sent.length, 0);
    assert.equal(runTracker(code, { dataset: {} }).sent.length, 0, 'no tracking ID');
  });
});

test('snippetFor', () => {
  assert.equal(
    snippetFor('site_1', 'https://collector.example/'),
    '<script defer src="https://collector.example/tracker.js" data-tracking-id="site_1" data-api="https://collector.example"></script>',
  );
  assert.match(snippetFor('a"b', 'https://c.example', { respectDnt: true }), /data-tracking-id="a&quot;b" data-api="https:\/\/c.example" data-respect-dnt="true"/);
});
