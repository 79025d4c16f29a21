/**
 * The browser tracker in a real browser (Debian's Chromium through playwright-core): a newcomer
 * pastes the snippet into a page and within seconds the stats API returns the events.
 *
 * A small test site is served from a second origin (another port on 127.0.0.1), so every beacon
 * is a real cross-origin request and the tracking IDs' allowed origins are enforced for real.
 * The browser is made to look like a person's (navigator.webdriver false, a non-headless user
 * agent): the tracker ignores automated browsers and the collector drops HeadlessChrome as a bot.
 *
 * Covered: pageviews on load and on history.pushState, a custom event with props and revenue,
 * file-download and outbound-link clicks (the latter while the page unloads), a call queued by
 * the stub before the tracker loaded; an origin the tracking ID does not allow (beacon and fetch
 * both refused, nothing counted); Do-Not-Track; the fetch keepalive fallback; a plain-http named
 * host (no crypto.randomUUID) and 127.0.0.1 without data-allow-localhost. Screenshots go to
 * artifacts/tracker-*.png.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page, Request } from 'playwright-core';
import { createTrackingId } from '../../control/tracking-ids.ts';
import { snippetFor } from '../../collectors/tracker/snippet.ts';
import { HOUR_MS } from '../../core/time.ts';
import { getJson, startTestAppliance, waitFor, type TestAppliance } from '../support/appliance.ts';
import { launchBrowser, saveScreenshot, visitorContext } from '../support/browser.ts';

/** How long the stats may take to show what the browser sent. */
const FRESHNESS_BOUND_MS = 20_000;

let t: TestAppliance;
let browser: Browser;
let site: TestSite; // the origin the tracking IDs allow
let otherSite: TestSite; // the same pages from an origin they do not allow
let range: string;
/** What the test site's pages carry: the snippet of the current test's tracking ID. */
const snippet = { trackingId: '', respectDnt: false, allowLocalhost: true };

before(async () => {
  const start = Date.now();
  // Whole hours around the test (breakdowns live in hour and day buckets); unlike period=day,
  // this range does not split when the test runs across midnight UTC.
  const hour = Math.floor(start / HOUR_MS) * HOUR_MS;
  range = `from=${new Date(hour - HOUR_MS).toISOString()}&to=${new Date(hour + 3 * HOUR_MS).toISOString()}`;
  // allSettled: whatever did start is closed by after(), even when something else failed.
  const started = await Promise.allSettled([
    startTestAppliance().then((v) => (t = v)),
    // partner.invalid (the outbound link) fails at once, without a DNS query; shop.test is 127.0.0.1.
    launchBrowser({ asVisitor: true, args: ['--host-resolver-rules=MAP *.invalid ~NOTFOUND, MAP shop.test 127.0.0.1'] }).then((v) => (browser = v)),
    serveSite().then((v) => (site = v)),
    serveSite().then((v) => (otherSite = v)),
  ]);
  for (const s of started) if (s.status === 'rejected') throw s.reason;
});

after(async () => {
  await browser?.close();
  await Promise.all([site?.close(), otherSite?.close()]);
  await t?.close();
});

test('a visitor on a page with the snippet: pageviews, SPA navigation, custom event with revenue, download and outbound clicks reach the stats API', async () => {
  const trackingId = await newTrackingId('Tracker e2e', [site.origin]);
  const context = await visitorContext(browser);
  const page = await context.newPage();
  const traffic = watchCollector(page, t.url);

  await page.goto(`${site.origin}/page-1`);
  await waitForTracker(page);
  await page.click('#signup');
  await page.click('#spa');
  assert.equal(await page.evaluate(() => location.pathname), '/spa/step-2');
  const download = page.waitForEvent('download');
  await page.click('#download');
  assert.equal((await download).suggestedFilename(), 'report.pdf');
  await saveScreenshot(page, 'tracker-page');
  // Leaves the page for a host that does not exist: the beacon must get out all the same.
  const left = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame() && !f.url().startsWith(site.origin) });
  await page.click('#outbound');
  await left; // the error page of partner.invalid
  await page.goto(`${site.origin}/page-2`);
  await waitForTracker(page);
  await saveScreenshot(page, 'tracker-page-2');
  const sentAt = Date.now();

  // 3 pageviews + Signup, File Download, Outbound Link: Click and the event queued before load.
  const expected = 7;
  let agg: any;
  const arrived = await waitFor(async () => {
    agg = await aggregate(trackingId);
    return agg.pageviews + agg.events >= expected;
  }, FRESHNESS_BOUND_MS, 250);
  const visibleAfterMs = Date.now() - sentAt;
  assert.ok(arrived, `after ${FRESHNESS_BOUND_MS} ms the stats show ${JSON.stringify(agg)}; collector saw ${JSON.stringify(await ingestCounts(trackingId))}; browser saw ${JSON.stringify(traffic.requests)}`);
  console.log(`# tracker e2e: the stats showed all ${expected} events ${visibleAfterMs} ms after the last page loaded`);

  assert.deepEqual(await ingestCounts(trackingId), { accepted: expected }, 'the collector took every event, once, and rejected none');
  assert.deepEqual(agg, { visitors: 1, visits: 1, pageviews: 3, events: 4, revenue: { EUR: 12.5 } });
  assert.deepEqual(await breakdown(trackingId, 'page', 'pageviews'), { '/page-1': 1, '/spa/step-2': 1, '/page-2': 1 });
  assert.deepEqual(await breakdown(trackingId, 'event', 'events'), { Signup: 1, 'File Download': 1, 'Outbound Link: Click': 1, 'Queued Before Load': 1 });
  assert.deepEqual(await breakdown(trackingId, 'browser', 'visitors'), { Chrome: 1 });
  assert.deepEqual(await breakdown(trackingId, 'entry_page', 'visits'), { '/page-1': 1 });

  // What the browser sent, and saw: one beacon per event, each answered 202. The outbound
  // click's page is gone by the time its answer comes, so DevTools may report that beacon as
  // aborted; the collector's counts above show that it arrived.
  const seen = await traffic.settled();
  assert.deepEqual(seen.map((r) => r.event), ['pageview', 'Signup', 'pageview', 'File Download', 'Outbound Link: Click', 'pageview', 'Queued Before Load']);
  for (const r of seen) {
    assert.equal(r.type, 'ping', `${r.event}: sent with sendBeacon`);
    if (r.event === 'Outbound Link: Click' && r.error === 'net::ERR_ABORTED') continue;
    assert.equal(r.status, 202, `${r.event}: ${JSON.stringify(r)}`);
  }
  const body = (i: number) => seen[i]!.body;
  assert.deepEqual(seen.map((r) => r.body.url), [
    `${site.origin}/page-1`, `${site.origin}/page-1`, `${site.origin}/spa/step-2`, `${site.origin}/spa/step-2`, `${site.origin}/spa/step-2`,
    `${site.origin}/page-2`, `${site.origin}/page-2`,
  ]);
  assert.ok(seen.every((r) => r.body.trackingId === trackingId && /^[0-9a-f-]{36}$/.test(r.body.eventId)));
  assert.equal(new Set(seen.map((r) => r.body.eventId)).size, seen.length, 'a new event ID per event');
  assert.deepEqual([body(1).props, body(1).revenue], [{ plan: 'pro' }, { amount: 12.5, currency: 'EUR' }]);
  assert.deepEqual(body(3).props, { url: `${site.origin}/files/report.pdf` });
  assert.deepEqual(body(4).props, { url: 'http://partner.invalid/offer' });
  assert.equal(body(0).title, 'Page 1');

  assert.deepEqual(traffic.pageErrors, [], 'the tracker threw nothing');
  assert.deepEqual(traffic.consoleErrors.filter((m) => !m.includes('partner.invalid')), [], 'no console errors');
  await context.close();
});

test('a page on an origin the tracking ID does not allow gets nothing counted, and the browser sees the refusal', async () => {
  const trackingId = await newTrackingId('Tracker e2e: other origin', [site.origin]);
  const context = await visitorContext(browser);

  // sendBeacon: a no-cors request; the collector answers 403, which the page's scripts cannot
  // read but the console shows.
  const beaconPage = await context.newPage();
  const beaconTraffic = watchCollector(beaconPage, t.url);
  await beaconPage.goto(`${otherSite.origin}/page-1`);
  await waitForTracker(beaconPage);
  await beaconPage.click('#signup');
  await saveScreenshot(beaconPage, 'tracker-disallowed-origin');

  // The fetch fallback (when sendBeacon refuses): a CORS request, blocked for the page to see.
  const fetchPage = await context.newPage();
  await refuseSendBeacon(fetchPage);
  const fetchTraffic = watchCollector(fetchPage, t.url);
  await fetchPage.goto(`${otherSite.origin}/page-1`);
  await waitForTracker(fetchPage);
  await fetchPage.click('#signup');

  const rejected = await waitFor(async () => (await ingestCounts(trackingId))['rejected:origin_not_allowed'] === 4, FRESHNESS_BOUND_MS);
  assert.ok(rejected, `the collector did not refuse the 4 events: ${JSON.stringify(await ingestCounts(trackingId))}`);
  const corsErrors = () => fetchTraffic.consoleErrors.filter((m) => /blocked by CORS policy/.test(m) && m.includes(otherSite.origin));
  assert.ok(await waitFor(async () => corsErrors().length === 2, 5_000), `the browser reported no CORS refusal: ${JSON.stringify(fetchTraffic.consoleErrors)}`);
  assert.deepEqual((await beaconTraffic.settled()).map((r) => [r.type, r.event, r.status, r.allowOrigin]), [
    ['ping', 'pageview', 403, undefined],
    ['ping', 'Signup', 403, undefined],
  ]);
  assert.deepEqual(beaconTraffic.consoleErrors, Array(2).fill('Failed to load resource: the server responded with a status of 403 (Forbidden)'));
  // The page may not read the answer: the fetch fails, as the tracker expects (and swallows).
  assert.deepEqual((await fetchTraffic.settled()).map((r) => [r.type, r.event, r.error]), [
    ['fetch', 'pageview', 'net::ERR_FAILED'],
    ['fetch', 'Signup', 'net::ERR_FAILED'],
  ]);
  assert.deepEqual(beaconTraffic.pageErrors.concat(fetchTraffic.pageErrors), [], 'the tracker swallows the refusal');

  // A visit from the allowed origin, as a barrier: once it is in the stats, anything the
  // refused requests could have added would be there too.
  const allowed = await context.newPage();
  await allowed.goto(`${site.origin}/page-1`);
  await waitForTracker(allowed);
  let agg: any;
  assert.ok(await waitFor(async () => (agg = await aggregate(trackingId)).pageviews >= 1, FRESHNESS_BOUND_MS), `the allowed visit never arrived: ${JSON.stringify(agg)}`);
  assert.deepEqual(agg, { visitors: 1, visits: 1, pageviews: 1, events: 0, revenue: {} });
  assert.deepEqual(await breakdown(trackingId, 'page', 'pageviews'), { '/page-1': 1 });
  assert.deepEqual(await ingestCounts(trackingId), { accepted: 1, 'rejected:origin_not_allowed': 4 });
  await context.close();
});

test('with data-respect-dnt="true", a browser that sends Do-Not-Track sends nothing', async () => {
  const trackingId = await newTrackingId('Tracker e2e: DNT', [site.origin], { respectDnt: true });
  const dntContext = await visitorContext(browser);
  // (Scripts for the page are strings: tsx would wrap functions in helpers the page lacks.)
  await dntContext.addInitScript(`Object.defineProperty(Navigator.prototype, 'doNotTrack', { get() { return '1'; }, configurable: true });`);
  const page = await dntContext.newPage();
  const traffic = watchCollector(page, t.url);
  await page.goto(`${site.origin}/page-1`);
  await waitForTracker(page);
  assert.equal(await page.evaluate(() => navigator.doNotTrack), '1');
  assert.match((await page.content()), /data-respect-dnt="true"/);
  await page.click('#signup');
  await page.click('#spa');
  const download = page.waitForEvent('download');
  await page.click('#download');
  await download;
  await page.goto(`${site.origin}/page-2`);
  await waitForTracker(page);
  await saveScreenshot(page, 'tracker-dnt');

  // The same snippet in a browser without Do-Not-Track is counted: the barrier after which
  // anything the DNT visit had sent would be in the stats as well.
  const plain = await visitorContext(browser);
  const plainPage = await plain.newPage();
  await plainPage.goto(`${site.origin}/page-1`);
  await waitForTracker(plainPage);
  let agg: any;
  assert.ok(await waitFor(async () => (agg = await aggregate(trackingId)).pageviews >= 1, FRESHNESS_BOUND_MS), `the plain visit never arrived: ${JSON.stringify(agg)}`);
  assert.deepEqual(agg, { visitors: 1, visits: 1, pageviews: 1, events: 0, revenue: {} });
  assert.deepEqual(await ingestCounts(trackingId), { accepted: 1 }, 'the collector heard nothing from the DNT visit');
  assert.deepEqual(traffic.requests, [], 'the DNT browser made no request to the collector');
  assert.deepEqual(traffic.pageErrors, []);
  await Promise.all([dntContext.close(), plain.close()]);
});

test('when sendBeacon refuses, the fetch keepalive fallback is counted, with CORS granted to the allowed origin', async () => {
  const trackingId = await newTrackingId('Tracker e2e: fetch fallback', [site.origin]);
  const context = await visitorContext(browser);
  const page = await context.newPage();
  await refuseSendBeacon(page);
  const traffic = watchCollector(page, t.url);
  await page.goto(`${site.origin}/page-1`);
  await waitForTracker(page);
  await page.click('#signup');

  let agg: any;
  assert.ok(await waitFor(async () => (agg = await aggregate(trackingId)).pageviews + agg.events >= 2, FRESHNESS_BOUND_MS), `not in the stats: ${JSON.stringify(agg)}`);
  assert.deepEqual(agg, { visitors: 1, visits: 1, pageviews: 1, events: 1, revenue: { EUR: 12.5 } });
  const seen = await traffic.settled();
  assert.deepEqual(seen.map((r) => r.event), ['pageview', 'Signup']);
  for (const r of seen) {
    assert.equal(r.type, 'fetch');
    assert.equal(r.status, 202);
    assert.equal(r.allowOrigin, site.origin, 'the collector grants the page its answer');
  }
  assert.deepEqual(traffic.consoleErrors, []);
  assert.deepEqual(traffic.pageErrors, []);
  await context.close();
});

test('on a named host over plain http (not a secure context: no crypto.randomUUID), the snippet works as pasted; on 127.0.0.1 it stays quiet', async () => {
  const namedOrigin = site.origin.replace('127.0.0.1', 'shop.test');
  const trackingId = await newTrackingId('Tracker e2e: named host', [namedOrigin, site.origin], { allowLocalhost: false });
  const context = await visitorContext(browser);

  // Without data-allow-localhost the tracker ignores 127.0.0.1, a developer's own machine.
  const local = await context.newPage();
  const localTraffic = watchCollector(local, t.url);
  await local.goto(`${site.origin}/page-1`);
  await waitForTracker(local);
  await local.click('#signup');

  const page = await context.newPage();
  const traffic = watchCollector(page, t.url);
  await page.goto(`${namedOrigin}/page-1`);
  await waitForTracker(page);
  assert.deepEqual(await page.evaluate('[window.isSecureContext, typeof crypto.randomUUID]'), [false, 'undefined']);
  assert.doesNotMatch(await page.content(), /data-allow-localhost/);
  await page.click('#signup');
  await page.click('#spa');

  let agg: any;
  assert.ok(await waitFor(async () => (agg = await aggregate(trackingId)).pageviews + agg.events >= 3, FRESHNESS_BOUND_MS), `not in the stats: ${JSON.stringify(agg)}`);
  assert.deepEqual(agg, { visitors: 1, visits: 1, pageviews: 2, events: 1, revenue: { EUR: 12.5 } });
  assert.deepEqual(await breakdown(trackingId, 'page', 'pageviews'), { '/page-1': 1, '/spa/step-2': 1 });
  assert.deepEqual(await ingestCounts(trackingId), { accepted: 3 });
  const seen = await traffic.settled();
  assert.deepEqual(seen.map((r) => [r.event, r.status]), [['pageview', 202], ['Signup', 202], ['pageview', 202]]);
  for (const r of seen) assert.match(r.body.eventId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'the fallback makes version 4 UUIDs');
  assert.equal(new Set(seen.map((r) => r.body.eventId)).size, 3);
  assert.deepEqual(localTraffic.requests, [], 'nothing sent from 127.0.0.1');
  assert.deepEqual(traffic.pageErrors.concat(localTraffic.pageErrors), []);
  await context.close();
});

// ---------------------------------------------------------------- helpers

/** Creates a tracking ID and puts its snippet into the test site's pages. */
async function newTrackingId(name: string, allowedOrigins: string[], opts: { respectDnt?: boolean; allowLocalhost?: boolean } = {}): Promise<string> {
  const record = await createTrackingId(t.app.storage.registry, { tenantId: t.credentials.tenantId, name, allowedOrigins, respectDnt: opts.respectDnt });
  snippet.trackingId = record.id;
  snippet.respectDnt = opts.respectDnt ?? false;
  snippet.allowLocalhost = opts.allowLocalhost ?? true;
  return record.id;
}

async function aggregate(trackingId: string): Promise<{ visitors: number; visits: number; pageviews: number; events: number; revenue: Record<string, number> }> {
  const res = await getJson(`${t.url}/api/v1/stats/aggregate?site_id=${trackingId}&${range}&metrics=visitors,visits,pageviews,events,revenue`, t.credentials.adminApiKey);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return Object.fromEntries(Object.entries(res.body.results as Record<string, { value: unknown }>).map(([k, v]) => [k, v.value])) as any;
}

async function breakdown(trackingId: string, property: string, metric: string): Promise<Record<string, number>> {
  const res = await getJson(`${t.url}/api/v1/stats/breakdown?site_id=${trackingId}&${range}&property=${property}&metrics=${metric}`, t.credentials.adminApiKey);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return Object.fromEntries((res.body.results as Record<string, any>[]).map((row) => [row[property], row[metric]]));
}

/** The collector's own counters for a tracking ID (accepted, rejected:<code>, bot:<reason>, duplicate). */
async function ingestCounts(trackingId: string): Promise<Record<string, number>> {
  const res = await getJson(`${t.url}/api/admin/status`, t.credentials.adminApiKey);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.ingest?.[trackingId] ?? {};
}

/** Waits until the tracker (not just the queueing stub) has loaded and run. */
async function waitForTracker(page: Page): Promise<void> {
  await page.waitForFunction(() => typeof (window as any).almanac === 'function' && !('q' in (window as any).almanac), undefined, { timeout: 15_000 });
}

/** Makes navigator.sendBeacon refuse to queue, as browsers do over their quota: the tracker must fall back to fetch. */
async function refuseSendBeacon(page: Page): Promise<void> {
  await page.addInitScript(`Navigator.prototype.sendBeacon = function () { return false; };`);
}

interface CollectorRequest {
  /** 'ping' for sendBeacon, 'fetch' for the fallback. */
  type: string;
  /** The event's type or name, from the request body. */
  event: string;
  body: any;
  status?: number;
  allowOrigin?: string;
  error?: string;
}

interface CollectorTraffic {
  requests: CollectorRequest[];
  consoleErrors: string[];
  pageErrors: string[];
  /** Waits until every request has a response or a failure; returns them. */
  settled(timeoutMs?: number): Promise<CollectorRequest[]>;
}

/** Records what `page` sends to the collector at `collectorUrl`, and its console errors. */
function watchCollector(page: Page, collectorUrl: string): CollectorTraffic {
  const byRequest = new Map<Request, CollectorRequest>();
  const traffic: CollectorTraffic = {
    requests: [],
    consoleErrors: [],
    pageErrors: [],
    async settled(timeoutMs = 10_000) {
      const done = () => traffic.requests.every((r) => r.status !== undefined || r.error !== undefined);
      assert.ok(await waitFor(async () => done(), timeoutMs, 50), `requests still open: ${JSON.stringify(traffic.requests)}`);
      return traffic.requests;
    },
  };
  page.on('request', (r) => {
    if (!r.url().startsWith(`${collectorUrl}/api/`)) return;
    let body: any;
    try {
      body = JSON.parse(r.postData() ?? '');
    } catch {
      body = { unparsable: r.postData() };
    }
    const entry: CollectorRequest = { type: r.resourceType(), event: body.name ?? body.type ?? '?', body };
    byRequest.set(r, entry);
    traffic.requests.push(entry);
  });
  page.on('response', (r) => {
    const entry = byRequest.get(r.request());
    if (!entry) return;
    entry.status = r.status();
    entry.allowOrigin = r.headers()['access-control-allow-origin'];
  });
  page.on('requestfailed', (r) => {
    const entry = byRequest.get(r);
    if (entry) entry.error = r.failure()?.errorText ?? 'failed';
  });
  page.on('console', (m) => {
    if (m.type() === 'error') traffic.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => traffic.pageErrors.push(String(e)));
  return traffic;
}

// ---------------------------------------------------------------- the test site

interface TestSite {
  origin: string;
  close(): Promise<void>;
}

function pageHtml(title: string, body: string, head = ''): string {
  let tag = snippetFor(snippet.trackingId, t.url, { respectDnt: snippet.respectDnt });
  // the site is on 127.0.0.1, which the tracker otherwise ignores as a developer's machine
  if (snippet.allowLocalhost) tag = tag.replace('></script>', ' data-allow-localhost="true"></script>');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
${head}${tag}
<style>body{font:16px/1.5 system-ui,sans-serif;margin:2rem}button,a{display:inline-block;margin:.5rem 1rem .5rem 0}</style>
</head><body>${body}</body></html>`;
}

const PAGE_1_BODY = `
<h1 id="title">Page 1</h1>
<p>A test page with the Almanac snippet.</p>
<button id="signup" onclick="almanac('event', 'Signup', { props: { plan: 'pro' }, revenue: { amount: 12.5, currency: 'EUR' } })">Sign up (pro, 12.50 EUR)</button>
<button id="spa" onclick="history.pushState({}, '', '/spa/step-2'); document.getElementById('title').textContent = 'Step 2 (SPA)'">Next step (SPA)</button>
<a id="download" href="/files/report.pdf">Report (PDF)</a>
<a id="outbound" href="http://partner.invalid/offer">Our partner</a>
<a id="page-2" href="/page-2">Page 2</a>`;

// Calls made before the tracker loads are queued by the documented stub and sent once it runs.
const STUB = `<script>window.almanac = window.almanac || function () { (window.almanac.q = window.almanac.q || []).push(arguments) }; almanac('event', 'Queued Before Load');</script>\n`;

async function serveSite(): Promise<TestSite> {
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const html = (s: string) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(s);
    if (path === '/page-1' || path === '/spa/step-2') return html(pageHtml('Page 1', PAGE_1_BODY));
    if (path === '/page-2') return html(pageHtml('Page 2', '<h1>Page 2</h1><p>The second page, with a call queued before the tracker loaded.</p><a href="/page-1">Page 1</a>', STUB));
    if (path === '/favicon.ico') return res.writeHead(204).end();
    if (path === '/files/report.pdf') {
      return res
        .writeHead(200, { 'content-type': 'application/pdf', 'content-disposition': 'attachment; filename="report.pdf"' })
        .end('%PDF-1.4\n%%EOF\n');
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
