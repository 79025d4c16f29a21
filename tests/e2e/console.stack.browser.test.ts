/**
 * The admin console in Chromium against a supervised cluster node on the native stack (Kafka,
 * FerretDB, Cassandra, Redis): sign in; every service up; create a tenant and a tracking ID; send
 * events with the snippet copied from the console; a replay's progress bar reaches 100 %; scale
 * the aggregator to 2 on the Scaling screen and see the second worker process appear (and go
 * again at 1); a SIGKILLed worker shows restarted with its crash. Screenshots: artifacts/console/stack-*.png.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ensureUiBuilt } from '../../ui/build.mjs';
import { waitFor } from '../support/appliance.ts';
import { launchBrowser, visitorContext } from '../support/browser.ts';
import { freshNamespace, type Namespace } from '../support/cluster.ts';
import { startSupervisor, type SupervisorProcess } from '../support/supervisor.ts';
import { consoleShot, goTo, recordPercents, serveSnippetSite, signIn, waitForTracker, watchConsolePage, type ConsoleProblems, type SnippetSite } from '../support/console-page.ts';

const DAY_MS = 86_400_000;
const utcDay = (offset: number) => new Date(Date.now() + offset * DAY_MS).toISOString().slice(0, 10);

let ns: Namespace;
let node: SupervisorProcess;
let browser: Browser;
let site: SnippetSite;
let admin: BrowserContext;
let page: Page;
let problems: ConsoleProblems;
let trackingId = '';

before(async () => {
  // Built once here: the node's HTTP workers would otherwise each rebuild a stale bundle.
  await ensureUiBuilt({ log: () => {} });
  ns = freshNamespace('console');
  const started = await Promise.allSettled([
    startSupervisor({ ...ns.env, ALMANAC_RECONCILE_INTERVAL_MS: '500', ALMANAC_KAFKA_SESSION_TIMEOUT_MS: '10000', ALMANAC_REPLAY_PAUSE_MS: '1000' }).then((v) => (node = v)),
    launchBrowser({ asVisitor: true }).then((v) => (browser = v)),
    serveSnippetSite().then((v) => (site = v)),
  ]);
  for (const s of started) if (s.status === 'rejected') throw s.reason;
  admin = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await admin.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: node.url });
  page = await admin.newPage();
  problems = watchConsolePage(page);
});

after(async () => {
  await browser?.close();
  await site?.close();
  await node?.stop();
  await ns?.drop();
});

test('sign in; the overview shows Kafka, MongoDB, Cassandra and Redis up', async () => {
  const c = node.credentials();
  await signIn(page, node.url, c.adminUsername!, c.adminPassword!);
  for (const service of ['kafka', 'mongodb', 'cassandra', 'redis']) await page.locator(`[data-service=${service}][data-up=true]`).waitFor({ timeout: 20_000 });
  await consoleShot(page, 'stack-01-overview');
});

test('a tenant and a tracking ID from the console; events sent with its snippet are counted', async () => {
  await goTo(page, 'tenants');
  await page.fill('[data-testid=create-tenant] input[name=name]', 'Stack Shop');
  await page.click('[data-testid=create-tenant] button[type=submit]');
  const row = page.locator('tr[data-tenant="Stack Shop"]');
  const tenantId = await row.getAttribute('data-tenant-id');
  await row.locator(`a[href="#/tracking-ids?tenant=${tenantId}"]`).click();
  await page.fill('[data-testid=create-tracking-id] input[name=name]', 'Stack website');
  await page.fill('[data-testid=create-tracking-id] input[name=allowedOrigins]', site.origin);
  await page.click('[data-testid=create-tracking-id] button[type=submit]');
  const details = page.locator('.tracking-details');
  await details.locator('[data-testid=snippet]').waitFor();
  trackingId = (await details.getAttribute('data-details'))!;
  await details.getByLabel('Also track pages on localhost').check();
  await page.waitForFunction(() => document.querySelector('[data-testid=snippet]')?.textContent?.includes('data-allow-localhost'));
  await details.getByRole('button', { name: 'Copy snippet' }).click();
  const snippet = await page.evaluate(() => navigator.clipboard.readText());
  assert.match(snippet, new RegExp(`data-tracking-id="${trackingId}".*data-api="${node.url}"`));

  site.paste(snippet);
  const visitor = await visitorContext(browser);
  const shop = await visitor.newPage();
  await shop.goto(`${site.origin}/page-1`);
  await waitForTracker(shop);
  await shop.click('#buy');
  await shop.goto(`${site.origin}/page-2`);
  await waitForTracker(shop);
  await visitor.close();

  const accepted = details.locator('[data-count=accepted]');
  assert.ok(await waitFor(async () => (await accepted.innerText()) === '3', 60_000, 1000), `the console counts show ${await accepted.innerText()} accepted, not 3`);
  await consoleShot(page, 'stack-02-tracking-id');
});

test('a replay of the tenant\'s last 3 days: the progress bar reaches 100 %', async () => {
  await goTo(page, 'replays');
  const form = page.locator('[data-testid=start-replay]');
  await form.locator('select[name=tenantId]').selectOption({ label: 'Stack Shop' });
  await form.locator('input[name=from]').fill(utcDay(-2));
  await form.locator('input[name=to]').fill(utcDay(0));
  await form.locator('input[name=dryRun]').uncheck();
  await form.getByRole('button', { name: 'Start replay' }).click();
  const first = page.locator('tbody tr[data-replay]').first();
  await first.waitFor();
  const id = (await first.getAttribute('data-replay'))!;
  const percents = await recordPercents(page, `tr[data-replay="${id}"] .progress`);
  await page.locator(`tr[data-replay="${id}"][data-status=done]`).waitFor({ timeout: 120_000 });
  const seen = await percents();
  console.log(`# console (stack) replay: progress bar values seen ${JSON.stringify(seen)}`);
  assert.equal(await page.locator(`tr[data-replay="${id}"] .progress`).getAttribute('data-percent'), '100');
  assert.ok(seen.some((p) => p < 100), `the bar moved: ${JSON.stringify(seen)}`);
  await consoleShot(page, 'stack-03-replay');
});

test('scaling: the aggregator set to 2 on the Scaling screen, the second worker process appears; back to 1, it goes', async () => {
  await goTo(page, 'scaling');
  const card = page.locator('.node').first();
  await card.locator('tr[data-worker="aggregator-0"][data-state=running]').waitFor({ timeout: 30_000 });
  assert.equal(await card.locator('tr[data-worker="aggregator-1"]').count(), 0);
  const firstPid = await card.locator('tr[data-worker="aggregator-0"] td').nth(2).innerText();

  await card.locator('input[name=desired-aggregator]').fill('2');
  const applied = Date.now();
  await card.getByRole('button', { name: 'Apply' }).click();
  const second = card.locator('tr[data-worker="aggregator-1"][data-state=running]');
  await second.waitFor({ timeout: 90_000 });
  console.log(`# console (stack): the second aggregator worker showed as running ${Date.now() - applied} ms after Apply`);
  const secondPid = await card.locator('tr[data-worker="aggregator-1"] td').nth(2).innerText();
  assert.match(secondPid, /^\d+$/);
  assert.notEqual(secondPid, firstPid, 'a process of its own');
  assert.equal(await card.locator('input[name=desired-aggregator]').inputValue(), '2');
  await consoleShot(page, 'stack-04-scaled-to-2');

  await card.locator('input[name=desired-aggregator]').fill('1');
  const reduced = Date.now();
  await card.getByRole('button', { name: 'Apply' }).click();
  await card.locator('tr[data-worker="aggregator-1"]').waitFor({ state: 'detached', timeout: 90_000 });
  console.log(`# console (stack): and was gone ${Date.now() - reduced} ms after setting 1`);
  await card.locator('tr[data-worker="aggregator-0"][data-state=running]').waitFor();
  await consoleShot(page, 'stack-05-back-to-1');
});

test('a crashed worker shows in the console: restarted by the supervisor, restarts counted, the signal as its last exit', async () => {
  const card = page.locator('.node').first();
  const row = card.locator('tr[data-worker="archiver-0"]');
  await card.locator('tr[data-worker="archiver-0"][data-state=running]').waitFor();
  const pid = Number(await row.locator('td').nth(2).innerText());
  assert.ok(pid > 0 && pid !== node.child.pid, `a worker process of its own: ${pid}`);
  process.kill(pid, 'SIGKILL');
  await page.waitForFunction((old) => {
    const cells = document.querySelectorAll('tr[data-worker="archiver-0"] td');
    return cells.length > 6 && cells[2].textContent !== old && cells[2].textContent !== '—' && cells[4].textContent === '1' && /SIGKILL/.test(cells[6].textContent ?? '');
  }, String(pid), { timeout: 60_000 });
  await card.locator('tr[data-worker="archiver-0"][data-state=running]').waitFor({ timeout: 60_000 });
  await consoleShot(page, 'stack-06-crash-restarted');
});

test('the console page threw nothing and the CSP blocked nothing', () => {
  assert.deepEqual(problems.pageErrors, []);
  assert.deepEqual(problems.consoleErrors, []);
});
