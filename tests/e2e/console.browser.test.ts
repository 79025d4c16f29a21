/**
 * The admin console in a real browser (Debian's Chromium through playwright-core) against an
 * embedded appliance serving it at /console: sign in (a wrong password first), create a tenant
 * and edit its quotas, create a tracking ID, copy the snippet from the console and send events
 * with it from a website on another origin, see the counts; rotate the key, pause, resume; a dry
 * run and a replay whose progress bar (fed by the SSE subscription) reaches 100 %, and one
 * cancelled part-way; suspend and delete a tenant with typed confirmation and progress; the audit
 * log; what a viewer sees; a session ended by an owner; API errors as readable messages; no page
 * errors and nothing blocked by the CSP. Screenshots: artifacts/console/*.png.
 *
 * Scaling the aggregator to 2 needs worker processes (cluster profile): console.stack.browser.test.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ensureUiBuilt } from '../../ui/build.mjs';
import { startTestAppliance, waitFor, type TestAppliance } from '../support/appliance.ts';
import { launchBrowser, visitorContext } from '../support/browser.ts';
import { consoleShot, freePort, goTo, recordPercents, serveSnippetSite, signIn, waitForTracker, watchConsolePage, type ConsoleProblems, type SnippetSite } from '../support/console-page.ts';

const DAY_MS = 86_400_000;
const utcDay = (offset: number) => new Date(Date.now() + offset * DAY_MS).toISOString().slice(0, 10);

let t: TestAppliance;
let browser: Browser;
let site: SnippetSite;
let admin: BrowserContext;
let page: Page;
let problems: ConsoleProblems;

before(async () => {
  await ensureUiBuilt({ log: () => {} });
  const started = await Promise.allSettled([
    // A pause between replay chunks (one site-day each) makes the progress bar's steps visible.
    freePort().then((port) => startTestAppliance({ ALMANAC_PORT: String(port), ALMANAC_PUBLIC_URL: `http://127.0.0.1:${port}`, ALMANAC_REPLAY_PAUSE_MS: '1500' })).then((v) => (t = v)),
    launchBrowser({ asVisitor: true }).then((v) => (browser = v)),
    serveSnippetSite().then((v) => (site = v)),
  ]);
  for (const s of started) if (s.status === 'rejected') throw s.reason;
  admin = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await admin.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: t.url });
  page = await admin.newPage();
  problems = watchConsolePage(page);
});

after(async () => {
  await browser?.close();
  await site?.close();
  await t?.close();
});

test('sign-in: a wrong password reads as a message; the first admin user signs in', async () => {
  const res = await page.goto(`${t.url}/console`);
  assert.match(String(res?.headers()['content-security-policy']), /script-src 'self'/);
  await page.fill('input[name=username]', t.credentials.adminUsername!);
  await page.fill('input[name=password]', 'not the password at all');
  await page.click('button[type=submit]');
  const note = page.locator('.error-note[data-code=bad_credentials]');
  await note.waitFor();
  assert.match(await note.innerText(), /Wrong username or password/);
  await consoleShot(page, '01-sign-in-error');

  await signIn(page, t.url, t.credentials.adminUsername!, t.credentials.adminPassword!);
  assert.equal(await page.locator('[data-testid=signed-in-as]').innerText(), t.credentials.adminUsername);
  await page.locator('[data-service=sqlite][data-up=true]').waitFor();
  await consoleShot(page, '02-overview');
});

test('a tenant (quotas edited) and a tracking ID created in the console; the copied snippet sends events that the counts show; key rotated, paused, resumed', async () => {
  await goTo(page, 'tenants');
  await page.fill('[data-testid=create-tenant] input[name=name]', 'Console Shop');
  await page.fill('[data-testid=create-tenant] input[name=rateLimitPerSec]', '50');
  await page.click('[data-testid=create-tenant] button[type=submit]');
  const row = page.locator('tr[data-tenant="Console Shop"]');
  await row.waitFor();
  assert.match(await row.innerText(), /active/);
  assert.match(await row.innerText(), /50\/s/);
  const tenantId = await row.getAttribute('data-tenant-id');
  // Quotas edited in place.
  await row.getByRole('button', { name: 'Edit' }).click();
  await row.getByLabel('retention days').fill('90');
  await row.getByLabel('monthly cap').fill('1000000');
  await row.getByRole('button', { name: 'Save' }).click();
  await page.waitForFunction(() => /cap 1,000,000 · 90 d/.test(document.querySelector('tr[data-tenant="Console Shop"]')?.textContent ?? ''));
  await consoleShot(page, '03-tenants');

  // From the tenant's row to its tracking IDs.
  await row.locator(`a[href="#/tracking-ids?tenant=${tenantId}"]`).click();
  await page.waitForSelector('.content[data-screen="tracking-ids"]');
  await page.fill('[data-testid=create-tracking-id] input[name=name]', 'Shop website');
  await page.fill('[data-testid=create-tracking-id] input[name=allowedOrigins]', site.origin);
  await page.click('[data-testid=create-tracking-id] button[type=submit]');
  const details = page.locator('.tracking-details');
  await details.locator('[data-testid=snippet]').waitFor();
  const trackingId = (await details.getAttribute('data-details'))!;
  assert.match(trackingId, /^AL-/);
  // The site is on 127.0.0.1: the snippet must say to track local pages.
  await details.getByLabel('Also track pages on localhost').check();
  await page.waitForFunction(() => document.querySelector('[data-testid=snippet]')?.textContent?.includes('data-allow-localhost'));
  await details.getByRole('button', { name: 'Copy snippet' }).click();
  await details.getByRole('button', { name: 'Copied' }).waitFor();
  const snippet = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(snippet, await details.locator('[data-testid=snippet]').innerText());
  assert.match(snippet, new RegExp(`data-tracking-id="${trackingId}"`));
  assert.match(await details.locator('[data-testid=server-key]').innerText(), /\S{16,}/);
  await consoleShot(page, '04-tracking-id');

  // A visitor on the website with the pasted snippet: two pageviews and a custom event.
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
  assert.ok(await waitFor(async () => (await accepted.innerText()) === '3', 20_000, 500), `the console counts show ${await accepted.innerText()} accepted, not 3`);
  assert.equal(await details.locator('[data-count=rejected]').innerText(), '0');
  await consoleShot(page, '05-counts');

  // Rotating the server key asks first, then shows the new key.
  const oldKey = await details.locator('[data-testid=server-key]').innerText();
  await details.getByRole('button', { name: 'Rotate server key' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Rotate' }).click();
  await page.waitForFunction((old) => { const k = document.querySelector('[data-testid=server-key]')?.textContent; return !!k && k !== old; }, oldKey);

  // Pause and resume, as the status badge shows.
  await details.getByRole('button', { name: 'Pause' }).click();
  await page.locator(`tr[data-tracking-id="${trackingId}"] .badge-paused`).waitFor();
  await details.getByRole('button', { name: 'Resume' }).click();
  await page.locator(`tr[data-tracking-id="${trackingId}"] .badge-active`).waitFor();

  // An embed token issued in the console: its dashboard shows the 2 pageviews sent above.
  const embed = details.locator('[data-testid=embed-panel]');
  await embed.getByRole('button', { name: 'Issue embed token' }).click();
  const iframe = await embed.locator('[data-testid=embed-iframe]').innerText();
  const src = /src="([^"]+)"/.exec(iframe)?.[1];
  assert.ok(src?.startsWith(`${t.url}/embed/dashboard?token=`), iframe);
  assert.match(await embed.locator('[data-testid=embed-component]').innerText(), /<almanac-dashboard token="emb1\./);
  const dashboard = await admin.newPage();
  await dashboard.goto(src!);
  await dashboard.locator('[data-metric="pageviews"][data-value]:not([data-value=""])').waitFor();
  assert.equal(await dashboard.locator('[data-metric="pageviews"]').getAttribute('data-value'), '2');
  await consoleShot(dashboard, '05b-embedded-dashboard');
  // Revoking every embed token of the tenant: the same URL now shows the error page.
  await embed.getByRole('button', { name: 'Revoke all embed tokens of this tenant' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Rotate' }).click();
  await waitFor(async () => {
    await dashboard.goto(src!);
    return (await dashboard.locator('[data-metric]').count()) === 0 && /revoked/i.test(await dashboard.locator('body').innerText());
  }, 10_000, 500);
  assert.match(await dashboard.locator('body').innerText(), /revoked/i);
  await dashboard.close();
});

test('replays: a dry run, then a replay whose live progress bar reaches 100 %, and one cancelled part-way', async () => {
  const sse: string[] = [];
  page.on('response', (r) => { if (r.url().includes('replays.progress')) sse.push(String(r.headers()['content-type'])); });
  await goTo(page, 'replays');
  const form = page.locator('[data-testid=start-replay]');
  await form.locator('select[name=tenantId]').selectOption({ label: 'Console Shop' });
  await form.locator('input[name=from]').fill(utcDay(-2));
  await form.locator('input[name=to]').fill(utcDay(0));
  await form.locator('button[type=submit]').click(); // dry run is the default
  const dry = page.locator('tbody tr[data-replay]').first();
  await dry.waitFor();
  const dryId = await dry.getAttribute('data-replay');
  await page.locator(`tr[data-replay="${dryId}"][data-status=done]`).waitFor({ timeout: 30_000 });
  assert.match(await page.locator(`tr[data-replay="${dryId}"] [data-testid=dry-run-report]`).innerText(), /0 of 3 site-days would change/);

  await form.locator('input[name=dryRun]').uncheck();
  await form.getByRole('button', { name: 'Start replay' }).click();
  const newest = page.locator('tbody tr[data-replay]').first();
  await page.waitForFunction((previous) => document.querySelector('tbody tr[data-replay]')?.getAttribute('data-replay') !== previous, dryId);
  const id = (await newest.getAttribute('data-replay'))!;
  const percents = await recordPercents(page, `tr[data-replay="${id}"] .progress`);
  await page.locator(`tr[data-replay="${id}"][data-status=done]`).waitFor({ timeout: 60_000 });
  assert.equal(await page.locator(`tr[data-replay="${id}"] .progress`).getAttribute('data-percent'), '100');
  const seen = await percents();
  await consoleShot(page, '06-replays');
  console.log(`# console replay: progress bar values seen ${JSON.stringify(seen)}`);
  assert.equal(seen[seen.length - 1], 100);
  assert.ok(seen.some((p) => p > 0 && p < 100), `the bar should move through the days, not jump: ${JSON.stringify(seen)}`);
  assert.deepEqual(seen, [...seen].sort((a, b) => a - b), 'progress never goes back');
  assert.ok(sse.length >= 1 && sse.every((type) => type.startsWith('text/event-stream')), `progress came over SSE: ${JSON.stringify(sse)}`);

  // A long one (10 days, 1.5 s apart) cancelled after it started: it stops before its next day.
  await form.locator('input[name=from]').fill(utcDay(-9));
  await form.getByRole('button', { name: 'Start replay' }).click();
  await page.waitForFunction((previous) => document.querySelector('tbody tr[data-replay]')?.getAttribute('data-replay') !== previous, id);
  const longId = (await page.locator('tbody tr[data-replay]').first().getAttribute('data-replay'))!;
  const longRow = page.locator(`tr[data-replay="${longId}"]`);
  await page.locator(`tr[data-replay="${longId}"] .progress:not([data-percent="0"])`).waitFor({ timeout: 30_000 });
  await longRow.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel replay' }).click();
  await page.locator(`tr[data-replay="${longId}"][data-status=cancelled]`).waitFor({ timeout: 30_000 });
  const stoppedAt = Number(await longRow.locator('.progress').getAttribute('data-percent'));
  assert.ok(stoppedAt > 0 && stoppedAt < 100, `cancelled part-way: ${stoppedAt} %`);
  await consoleShot(page, '06b-replay-cancelled');
});

test('a tenant suspended, then deleted after typing its name, with progress; the audit log has it all', async () => {
  await goTo(page, 'tenants');
  await page.fill('[data-testid=create-tenant] input[name=name]', 'Doomed Shop');
  await page.click('[data-testid=create-tenant] button[type=submit]');
  const row = page.locator('tr[data-tenant="Doomed Shop"]');
  await row.getByRole('button', { name: 'Suspend' }).click();
  await row.locator('.badge-suspended').waitFor();

  await row.getByRole('button', { name: 'Delete' }).click();
  const dialog = page.getByRole('dialog');
  const confirm = dialog.getByRole('button', { name: 'Delete tenant and its data' });
  assert.equal(await confirm.isDisabled(), true, 'not before the name is typed');
  await dialog.locator('input[name=confirm-text]').fill('Doomed');
  assert.equal(await confirm.isDisabled(), true);
  await dialog.locator('input[name=confirm-text]').fill('Doomed Shop');
  await consoleShot(page, '07-delete-confirm');
  await confirm.click();
  await page.locator('.deletion[data-status=done] .progress[data-percent="100"]').waitFor({ timeout: 30_000 });
  await row.waitFor({ state: 'detached', timeout: 15_000 });
  assert.equal(await page.locator('tr[data-tenant="Console Shop"]').count(), 1, 'the other tenant stays');
  await consoleShot(page, '08-deleted');

  await goTo(page, 'audit');
  await page.locator('tr[data-action="tenants.delete"]').waitFor();
  const actions = await page.locator('tbody tr[data-action]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')));
  for (const a of ['auth.signIn', 'tenants.create', 'tenants.updateQuotas', 'trackingIds.create', 'trackingIds.rotateServerKey', 'trackingIds.pause', 'trackingIds.resume', 'replays.start', 'replays.cancel', 'tenants.suspend', 'tenants.delete']) {
    assert.ok(actions.includes(a), `audit log has ${a}: ${JSON.stringify(actions)}`);
  }
  await consoleShot(page, '09-audit');
});

test('scaling (embedded): the node with its in-process roles, each running', async () => {
  await goTo(page, 'scaling');
  const node = page.locator('.node').first();
  for (const role of ['collector', 'archiver', 'aggregator', 'query']) await node.locator(`tr[data-worker="${role}-0"][data-state=running]`).waitFor();
  assert.equal(await node.locator('input[name=desired-aggregator]').inputValue(), '1');
  await page.locator('[data-group=almanac-aggregator] table tbody tr').first().waitFor();
  await consoleShot(page, '10-scaling-embedded');
});

test('scaling (embedded): a scale it cannot run is refused with a readable message', async () => {
  const node = page.locator('.node').first();
  await node.locator('input[name=desired-aggregator]').fill('2');
  await node.getByRole('button', { name: 'Apply' }).click();
  const note = node.locator('.error-note');
  await note.waitFor();
  await consoleShot(page, '11-scaling-refused');
  assert.equal(await note.getAttribute('data-code'), 'invalid_scale', await note.innerText());
  assert.match(await note.innerText(), /embedded/i);
});

test('a viewer sees the screens without any control that changes something, and no server keys; a session ended by an owner leads back to sign-in', async () => {
  const res = await fetch(`${t.url}/api/trpc/auth.users.create`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${t.credentials.adminApiKey}` },
    body: JSON.stringify({ username: 'watcher', role: 'viewer', password: 'a long viewer password' }),
  });
  assert.equal(res.status, 200, await res.text());
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const viewer = await context.newPage();
  const viewerProblems = watchConsolePage(viewer);
  await signIn(viewer, t.url, 'watcher', 'a long viewer password');
  assert.match(await viewer.locator('.who').innerText(), /viewer/);
  await goTo(viewer, 'tenants');
  await viewer.locator('tr[data-tenant="Console Shop"]').waitFor();
  assert.equal(await viewer.locator('[data-testid=create-tenant]').count(), 0);
  assert.equal(await viewer.locator('tr[data-tenant] button').count(), 0, 'no suspend, delete or quota buttons');
  await goTo(viewer, 'tracking-ids');
  assert.equal(await viewer.locator('[data-testid=create-tracking-id]').count(), 0);
  // Without a tenant in the URL, the first tenant's IDs are listed as soon as the tenants load.
  await viewer.locator('tbody tr[data-tracking-id] button', { hasText: 'Details' }).first().click({ timeout: 5_000 });
  await viewer.locator('.tracking-details [data-count=accepted]').waitFor();
  assert.equal(await viewer.locator('[data-testid=server-key]').count(), 0);
  assert.match(await viewer.locator('.tracking-details').innerText(), /Hidden for viewers/);
  assert.equal(await viewer.locator('.tracking-details button.danger').count(), 0);
  await goTo(viewer, 'replays');
  assert.equal(await viewer.locator('[data-testid=start-replay]').count(), 0);
  await goTo(viewer, 'scaling');
  await viewer.locator('.node input[name=desired-aggregator]').waitFor();
  assert.equal(await viewer.locator('.node input[name=desired-aggregator]').isDisabled(), true);
  await consoleShot(viewer, '12-viewer');
  await viewer.getByRole('button', { name: 'Sign out' }).click();
  await viewer.locator('input[name=username]').waitFor();

  // Signed in again; an owner disables the user meanwhile: the open console goes back to sign-in and says why.
  await signIn(viewer, t.url, 'watcher', 'a long viewer password');
  await goTo(viewer, 'scaling'); // polls every 2 s
  const users = await (await fetch(`${t.url}/api/trpc/auth.users.list`, { headers: { authorization: `Bearer ${t.credentials.adminApiKey}` } })).json() as { result: { data: { id: string; username: string }[] } };
  const watcher = users.result.data.find((u) => u.username === 'watcher')!;
  const disabled = await fetch(`${t.url}/api/trpc/auth.users.setDisabled`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${t.credentials.adminApiKey}` },
    body: JSON.stringify({ id: watcher.id, disabled: true }),
  });
  assert.equal(disabled.status, 200, await disabled.text());
  const note = viewer.locator('.sign-in .error-note[data-code=not_signed_in]');
  await note.waitFor({ timeout: 10_000 });
  assert.match(await note.innerText(), /not signed in/i);
  await consoleShot(viewer, '13-session-ended');
  assert.deepEqual(viewerProblems.pageErrors, []);
  await context.close();
});

test('the console page threw nothing and the CSP blocked nothing', () => {
  assert.deepEqual(problems.pageErrors, []);
  // The two refused requests of the tests above (wrong password, impossible scale) log a
  // "Failed to load resource" each; nothing else may.
  const unexpected = problems.consoleErrors.filter((m) => !/Failed to load resource: the server responded with a status of (401|400|412|500)/.test(m));
  assert.deepEqual(unexpected, []);
});
