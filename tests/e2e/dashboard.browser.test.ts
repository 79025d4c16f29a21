/**
 * The embeddable dashboard in a real browser (Debian's Chromium through playwright-core).
 *
 * The appliance serves on http://127.0.0.1:<port>; a merchant portal is served from another
 * origin (http://localhost:<port2>) and embeds the dashboard by iframe and by the
 * <almanac-dashboard> web component. A second portal origin, not in the token's allowed
 * origins, is refused by the browser (CSP frame-ancestors). The figures on screen are compared
 * with the stats API's answers for the same query. Screenshots: artifacts/dashboard/*.png.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser, Frame, Page } from 'playwright-core';
import { getJson, startTestAppliance, type TestAppliance } from '../support/appliance.ts';
import { ARTIFACTS_DIR, launchBrowser } from '../support/browser.ts';
import { issueToken, sendDashboardTraffic, tamper } from '../support/embed-traffic.ts';
import { formatValue } from '../../ui/dashboard/format.ts';

let t: TestAppliance;
let browser: Browser;
let portal: Portal; // allowed parent origin
let stranger: Portal; // not allowed
const SHOTS = path.join(ARTIFACTS_DIR, 'dashboard');

before(async () => {
  const started = await Promise.allSettled([
    startTestAppliance().then((v) => (t = v)),
    launchBrowser().then((v) => (browser = v)),
    servePortal().then((v) => (portal = v)),
    servePortal().then((v) => (stranger = v)),
  ]);
  for (const s of started) if (s.status === 'rejected') throw s.reason;
  await sendDashboardTraffic(t);
  mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await Promise.all([portal?.close(), stranger?.close()]);
  await t?.close();
});

async function newPage(width = 1280, height = 900): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height }, timezoneId: 'UTC' });
  return context.newPage();
}

/** The dashboard frame of a portal page, once its headline figures have loaded. */
async function dashboardFrame(page: Page): Promise<Frame> {
  await page.waitForFunction(() => true);
  for (let i = 0; i < 100; i++) {
    const frame = page.frames().find((f) => f.url().includes('/embed/dashboard'));
    if (frame && (await frame.locator('[data-metric="pageviews"][data-value]:not([data-value=""])').count().catch(() => 0)) > 0) return frame;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the dashboard did not load; frames: ${page.frames().map((f) => f.url()).join(', ')}`);
}

test('iframe on another origin: the numbers on screen equal the stats API', async () => {
  const { body } = await issueToken(t, { trackingId: t.credentials.trackingId, allowedOrigins: [portal.origin] });
  const page = await newPage();
  await page.goto(`${portal.origin}/iframe?src=${encodeURIComponent(`${t.url}/embed/dashboard?token=${encodeURIComponent(body.token)}&brand=%230e7490`)}`);
  const frame = await dashboardFrame(page);

  const site = t.credentials.trackingId;
  const api = await getJson(`${t.url}/api/v1/stats/aggregate?site_id=${site}&period=7d&timezone=UTC&compare=previous_period&metrics=visitors,visits,pageviews,views_per_visit,bounce_rate,visit_duration,revenue,conversions`, t.credentials.adminApiKey);
  assert.equal(api.status, 200);
  for (const [metric, r] of Object.entries(api.body.results as Record<string, { value: unknown; change: unknown }>)) {
    const card = frame.locator(`[data-metric="${metric}"]`);
    assert.equal(await card.getAttribute('data-value'), JSON.stringify(r.value), `${metric}: value`);
    assert.equal(await card.locator('.value').innerText(), formatValue(metric, r.value as number), `${metric}: shown`);
    assert.equal(await card.locator('.change').getAttribute('data-change'), JSON.stringify(r.change ?? null), `${metric}: change`);
  }
  assert.ok((api.body.results.pageviews.value as number) > 0);
  assert.match(await frame.getByTestId('data-as-of').innerText(), /^Data as of .+ \((just now|\d+ min ago)\)$/);

  // The default breakdown (sources), row by row.
  const bd = await getJson(`${t.url}/api/v1/stats/breakdown?site_id=${site}&period=7d&timezone=UTC&property=source&metrics=visitors,visits,pageviews,bounce_rate,events&limit=50`, t.credentials.adminApiKey);
  await frame.locator('table[data-property="source"] tbody tr').first().waitFor();
  const shown = await frame.locator('table[data-property="source"] tbody tr').evaluateAll((trs) =>
    trs.map((tr) => Object.fromEntries([...tr.querySelectorAll('td')].map((td) => [td.getAttribute('data-col'), JSON.parse(td.getAttribute('data-value')!)]))));
  assert.deepEqual(shown, bd.body.results);

  // Sorting by a column re-orders the rows (ascending pageviews on a second click).
  await frame.locator('th button[data-sort="pageviews"]').click();
  await frame.locator('th button[data-sort="pageviews"]').click();
  const asc = await frame.locator('td[data-col="pageviews"]').evaluateAll((tds) => tds.map((td) => Number(td.getAttribute('data-value'))));
  assert.deepEqual(asc, [...asc].sort((a, b) => a - b));

  // Pages breakdown and the realtime counter equal the API too.
  await frame.locator('button[data-property="page"]').click();
  await frame.locator('table[data-property="page"] tbody tr').first().waitFor();
  const pages = await frame.locator('table[data-property="page"] td[data-col="page"]').allInnerTexts();
  const apiPages = await getJson(`${t.url}/api/v1/stats/breakdown?site_id=${site}&period=7d&timezone=UTC&property=page&metrics=visitors&limit=50`, t.credentials.adminApiKey);
  assert.deepEqual(pages, apiPages.body.results.map((r: { page: string }) => r.page));
  const rt = await getJson(`${t.url}/api/v1/stats/realtime/visitors?site_id=${site}`, t.credentials.adminApiKey);
  assert.equal(await frame.getByTestId('realtime').getAttribute('data-value'), String(rt.body));

  await frame.locator('button[data-property="source"]').click();
  // The frame element itself: a full-page capture leaves a cross-origin frame blank in headless Chromium.
  await page.locator('iframe').screenshot({ path: path.join(SHOTS, 'desktop-iframe.png') });
  await page.context().close();
});

test('interval switch, metric picker, custom range and time zone: the chart shows the API\'s series', async () => {
  const { body } = await issueToken(t, { trackingId: t.credentials.trackingId });
  const page = await newPage();
  await page.goto(`${t.url}/embed/dashboard?token=${encodeURIComponent(body.token)}`);
  await page.locator('[data-metric="pageviews"][data-value]:not([data-value=""])').waitFor();
  const site = t.credentials.trackingId;
  const series = page.getByTestId('series');
  const pointsFor = async (query: string, metric: string) => {
    const api = await getJson(`${t.url}/api/v1/stats/timeseries?site_id=${site}&${query}&metrics=${metric}`, t.credentials.adminApiKey);
    return JSON.stringify(api.body.results.map((r: Record<string, unknown>) => [r.date, r[metric]]));
  };
  const shows = async (expected: string) => {
    await page.waitForFunction(([sel, want]) => document.querySelector(sel!)?.getAttribute('data-points') === want, ['[data-testid="series"]', expected] as const, { timeout: 10_000 });
  };

  await page.locator('button[data-preset="day"]').click();
  await shows(await pointsFor('period=day&timezone=UTC&interval=hour', 'visitors'));
  await page.locator('button[data-interval="minute"]').click();
  await shows(await pointsFor('period=day&timezone=UTC&interval=minute', 'visitors'));
  await page.getByTestId('metric').selectOption('pageviews');
  await shows(await pointsFor('period=day&timezone=UTC&interval=minute', 'pageviews'));
  assert.ok(JSON.parse((await series.getAttribute('data-points'))!).some((p: [string, number]) => p[1] > 0), 'the minutes with traffic are there');

  await page.locator('button[data-preset="custom"]').click();
  await page.getByTestId('timezone').selectOption('Asia/Tokyo');
  const today = new Date().toISOString().slice(0, 10);
  const first = new Date(Date.now() - 13 * 86_400_000).toISOString().slice(0, 10);
  await shows(await pointsFor(`period=custom&date=${first},${today}&timezone=Asia/Tokyo&interval=day`, 'pageviews'));
  const agg = await getJson(`${t.url}/api/v1/stats/aggregate?site_id=${site}&period=custom&date=${first},${today}&timezone=Asia/Tokyo&compare=previous_period&metrics=visitors,visits,pageviews,views_per_visit,bounce_rate,visit_duration,revenue,conversions`, t.credentials.adminApiKey);
  await page.waitForFunction((v) => document.querySelector('[data-metric="pageviews"]')?.getAttribute('data-value') === v, JSON.stringify(agg.body.results.pageviews.value));
  await page.context().close();
});

test('a token with a fixed page filter: page breakdowns only, no realtime, figures of those pages', async () => {
  const { body } = await issueToken(t, { trackingId: t.credentials.trackingId, pagePrefix: '/blog/' });
  const page = await newPage();
  await page.goto(`${t.url}/embed/dashboard?token=${encodeURIComponent(body.token)}`);
  await page.locator('[data-metric="pageviews"][data-value]:not([data-value=""])').waitFor();
  assert.match(await page.getByTestId('fixed-filter').innerText(), /\/blog\//);
  assert.equal(await page.getByTestId('realtime').count(), 0);
  assert.deepEqual(await page.locator('.tabs button').evaluateAll((bs) => bs.map((b) => b.getAttribute('data-property'))), ['page', 'entry_page', 'exit_page']);
  const api = await getJson(`${t.url}/api/v1/stats/aggregate?site_id=${t.credentials.trackingId}&period=7d&timezone=UTC&page_prefix=/blog/&metrics=pageviews`, t.credentials.adminApiKey);
  assert.equal(await page.locator('[data-metric="pageviews"]').getAttribute('data-value'), JSON.stringify(api.body.results.pageviews.value));
  const pages = await page.locator('table[data-property="page"] td[data-col="page"]').allInnerTexts();
  assert.ok(pages.length > 0 && pages.every((p) => p.startsWith('/blog/')), pages.join(', '));
  await page.screenshot({ path: path.join(SHOTS, 'desktop-page-filter.png'), fullPage: true });
  await page.context().close();
});

test('phone and desktop widths, light and dark: screenshots, no horizontal overflow', async () => {
  const { body } = await issueToken(t, { trackingId: t.credentials.trackingId });
  for (const [name, width, height, theme] of [['phone', 390, 844, 'light'], ['desktop', 1280, 900, 'light'], ['phone-dark', 390, 844, 'dark'], ['wide-dark', 1680, 1000, 'dark']] as const) {
    const page = await newPage(width, height);
    const problems: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error' || /Content Security Policy/.test(m.text())) problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${t.url}/embed/dashboard?token=${encodeURIComponent(body.token)}&theme=${theme}&brand=%23db2777`);
    await page.locator('[data-metric="pageviews"][data-value]:not([data-value=""])').waitFor();
    await page.locator('.apexcharts-svg').first().waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `${name}: no horizontal scrolling (overflow ${overflow}px)`);
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), theme);
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
    assert.deepEqual(problems, [], `${name}: no script errors and no CSP violations under the page's strict policy`);
    await page.context().close();
  }
});

test('web component on another origin shows the dashboard', async () => {
  const { body } = await issueToken(t, { trackingId: t.credentials.trackingId, allowedOrigins: [portal.origin] });
  const page = await newPage();
  await page.goto(`${portal.origin}/component?script=${encodeURIComponent(`${t.url}/embed/almanac-dashboard.js`)}&token=${encodeURIComponent(body.token)}`);
  const frame = await dashboardFrame(page);
  assert.ok(Number(await frame.locator('[data-metric="pageviews"]').getAttribute('data-value')) > 0);
  await page.waitForFunction(() => {
    const f = document.querySelector('almanac-dashboard')?.shadowRoot?.querySelector('iframe');
    return f && f.style.height !== '900px'; // sized by the height the dashboard posts
  });
  await page.screenshot({ path: path.join(SHOTS, 'desktop-web-component.png'), fullPage: true });
  await page.context().close();
});

test('expired and tampered tokens show the error state, not a broken chart', async () => {
  const valid = await issueToken(t, { trackingId: t.credentials.trackingId, allowedOrigins: [portal.origin] });
  const short = await issueToken(t, { trackingId: t.credentials.trackingId, allowedOrigins: [portal.origin], expiresAt: new Date(Date.now() + 1_100).toISOString() });
  await new Promise((r) => setTimeout(r, 1_200));
  for (const [name, token, code] of [['tampered', tamper(valid.body.token), 'embed_token_invalid'], ['expired', short.body.token, 'embed_token_expired']] as const) {
    const page = await newPage();
    await page.goto(`${portal.origin}/iframe?src=${encodeURIComponent(`${t.url}/embed/dashboard?token=${encodeURIComponent(token)}`)}`);
    let frame: Frame | undefined;
    for (let i = 0; i < 50 && !frame; i++) {
      frame = page.frames().find((f) => f.url().includes('/embed/dashboard'));
      if (!frame) await new Promise((r) => setTimeout(r, 100));
    }
    const error = frame!.getByTestId('error-state');
    await error.waitFor();
    assert.equal(await error.getAttribute('data-code'), code, name);
    assert.match(await error.innerText(), /cannot be shown/);
    assert.equal(await frame!.locator('.apexcharts-svg, [data-metric]').count(), 0, `${name}: no chart`);
    await page.screenshot({ path: path.join(SHOTS, `error-${name}.png`) });
    await page.context().close();
  }
});

test('a parent origin the token does not allow is refused by the browser (frame-ancestors)', async () => {
  const { body } = await issueToken(t, { trackingId: t.credentials.trackingId, allowedOrigins: [portal.origin] });
  const src = `${t.url}/embed/dashboard?token=${encodeURIComponent(body.token)}`;
  const page = await newPage();
  const refusals: string[] = [];
  page.on('console', (m) => { if (/frame-ancestors/.test(m.text())) refusals.push(m.text()); });
  const dashboardRequests: string[] = [];
  page.on('request', (r) => { if (r.url().includes('/api/v1/stats/')) dashboardRequests.push(r.url()); });
  await page.goto(`${stranger.origin}/iframe?src=${encodeURIComponent(src)}`);
  for (let i = 0; i < 50 && refusals.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(refusals.length > 0, 'Chromium reports the frame-ancestors refusal');
  assert.match(refusals[0], new RegExp(portal.origin.replace(/[.:/]/g, '\\$&')));
  await new Promise((r) => setTimeout(r, 500));
  const frame = page.frames().find((f) => f !== page.mainFrame());
  assert.equal(await frame?.locator('[data-metric]').count().catch(() => 0) ?? 0, 0, 'nothing of the dashboard rendered');
  assert.deepEqual(dashboardRequests, [], 'the refused frame never asked for stats');
  await page.screenshot({ path: path.join(SHOTS, 'refused-origin.png') });

  // The same page on the allowed origin works (the refusal is the origin's, not the token's).
  await page.goto(`${portal.origin}/iframe?src=${encodeURIComponent(src)}`);
  await dashboardFrame(page);
  await page.context().close();
});

interface Portal {
  origin: string;
  close(): Promise<void>;
}

/** A merchant portal: /iframe?src=… embeds by iframe, /component?script=…&token=… by web component. */
async function servePortal(): Promise<Portal> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const attr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
    const html = (body: string) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><html><head><meta charset="utf-8"><title>Merchant portal</title></head><body style="margin:0;font-family:sans-serif"><header style="padding:12px;background:#eee">Merchant portal</header>${body}</body></html>`);
    if (url.pathname === '/iframe') return html(`<iframe src="${attr(url.searchParams.get('src') ?? '')}" style="width:100%;height:1400px;border:0" title="Analytics"></iframe>`);
    if (url.pathname === '/component') return html(`<script src="${attr(url.searchParams.get('script') ?? '')}"></script><almanac-dashboard token="${attr(url.searchParams.get('token') ?? '')}" theme="light"></almanac-dashboard>`);
    res.writeHead(404).end();
  });
  // localhost: another origin than the appliance's 127.0.0.1.
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://localhost:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
