/**
 * Embed tokens end to end over HTTP against a real appliance (embedded profile): issuing through
 * the admin route, reading the stats API with a token (its own site only, its filter enforced),
 * the iframe page's CSP and error pages, rotation, expiry and the per-token rate limit.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { getJson, startTestAppliance, type TestAppliance } from '../support/appliance.ts';
import { issueToken, sendDashboardTraffic, tamper } from '../support/embed-traffic.ts';

let t: TestAppliance;
before(async () => {
  t = await startTestAppliance();
  await sendDashboardTraffic(t);
});
after(async () => t?.close());

const stats = (path: string, token: string) => getJson(`${t.url}/api/v1/stats/${path}`, token);

test('issuing needs an admin key and validates its input', async () => {
  const noKey = await fetch(`${t.url}/api/admin/embed-tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ trackingId: t.credentials.trackingId }) });
  assert.equal(noKey.status, 401);
  assert.equal((await issueToken(t, {})).body.error.code, 'invalid_request');
  assert.equal((await issueToken(t, { trackingId: 'AL-NOPE' })).status, 404);
  const badOrigin = await issueToken(t, { trackingId: t.credentials.trackingId, allowedOrigins: ['https://portal.example/path'] });
  assert.equal(badOrigin.status, 400);
  assert.match(badOrigin.body.error.message, /not an origin/);
  const ok = await issueToken(t, { trackingId: t.credentials.trackingId, expiresInDays: 7, allowedOrigins: ['https://portal.example'] });
  assert.equal(ok.status, 201);
  assert.match(ok.body.token, /^emb1\./);
  assert.deepEqual(ok.body.allowedOrigins, ['https://portal.example']);
  assert.ok(Math.abs(Date.parse(ok.body.expiresAt) - (Date.now() + 7 * 86_400_000)) < 5_000);
  assert.match(ok.body.webComponent, /<almanac-dashboard token="emb1\./);
});

test('a token reads its own site exactly as an API key does, and nothing else', async () => {
  const { body } = await issueToken(t, { trackingId: t.credentials.trackingId });
  const q = `aggregate?site_id=${t.credentials.trackingId}&period=day&metrics=visitors,visits,pageviews,bounce_rate&compare=previous_period`;
  const withToken = await stats(q, body.token);
  const withKey = await stats(q, t.credentials.adminApiKey);
  assert.equal(withToken.status, 200);
  assert.deepEqual(withToken.body, withKey.body);
  assert.ok(withToken.body.meta.dataAsOf, 'meta.dataAsOf is set');
  assert.ok(Date.now() - Date.parse(withToken.body.meta.dataAsOf) < 10 * 60_000, 'data as of the last minutes');
  // Without site_id the token's site is implied; another site is refused.
  assert.deepEqual((await stats('aggregate?period=day&metrics=visitors,visits,pageviews,bounce_rate&compare=previous_period', body.token)).body.results, withKey.body.results);
  assert.equal((await stats('aggregate?site_id=AL-OTHER&period=day', body.token)).status, 403);
  // Not an admin credential.
  const admin = await fetch(`${t.url}/api/admin/status`, { headers: { authorization: `Bearer ${body.token}` } });
  assert.equal(admin.status, 401);
});

test('the fixed page filter is enforced server-side', async () => {
  const { body } = await issueToken(t, { trackingId: t.credentials.trackingId, pagePrefix: '/blog/' });
  const pages = await stats('breakdown?property=page&period=day&metrics=visitors,pageviews', body.token);
  assert.equal(pages.status, 200);
  const all = await stats(`breakdown?site_id=${t.credentials.trackingId}&property=page&period=day&metrics=visitors,pageviews`, t.credentials.adminApiKey);
  const blog = all.body.results.filter((r: { page: string }) => r.page.startsWith('/blog/'));
  assert.ok(blog.length > 0 && blog.length < all.body.results.length, 'the traffic has blog and other pages');
  assert.deepEqual(pages.body.results, blog);
  const agg = await stats('aggregate?period=day&metrics=pageviews', body.token);
  assert.equal(agg.body.results.pageviews.value, blog.reduce((n: number, r: { pageviews: number }) => n + r.pageviews, 0));
  assert.equal((await stats('aggregate?period=day&metrics=pageviews&page_prefix=/', body.token)).status, 403, 'the filter cannot be widened');
  assert.equal((await stats('breakdown?property=source&period=day', body.token)).status, 400, 'sources are not kept per page');
  assert.equal((await stats('aggregate?period=day&metrics=visits', body.token)).status, 400, 'visits are kept per entry page, not per page');
  assert.equal((await stats('realtime/visitors', body.token)).body.error.code, 'embed_filter_unsupported');
});

test('the iframe page: CSP frame-ancestors from the token, clear error pages otherwise', async () => {
  const { body } = await issueToken(t, { trackingId: t.credentials.trackingId, allowedOrigins: ['https://portal.example', 'http://localhost:3000'] });
  const page = await fetch(`${t.url}/embed/dashboard?token=${encodeURIComponent(body.token)}`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-security-policy')!, /^frame-ancestors https:\/\/portal\.example http:\/\/localhost:3000;/);
  assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
  assert.match(await page.text(), /\/embed\/assets\/app\.js/);

  const none = await issueToken(t, { trackingId: t.credentials.trackingId });
  const framed = await fetch(`${t.url}/embed/dashboard?token=${encodeURIComponent(none.body.token)}`);
  assert.match(framed.headers.get('content-security-policy')!, /^frame-ancestors 'none';/);

  const bad = await fetch(`${t.url}/embed/dashboard?token=${encodeURIComponent(tamper(body.token))}`);
  assert.equal(bad.status, 401);
  const html = await bad.text();
  assert.match(html, /data-code="embed_token_invalid"/);
  assert.doesNotMatch(html, /app\.js/, 'no dashboard script on the error page');
  assert.equal((await fetch(`${t.url}/embed/dashboard`)).status, 401);

  const script = await fetch(`${t.url}/embed/almanac-dashboard.js`);
  assert.equal(script.status, 200);
  assert.match(await script.text(), /almanac-dashboard/);
  assert.equal((await fetch(`${t.url}/embed/assets/app.js`)).status, 200);
  assert.equal((await fetch(`${t.url}/embed/assets/..%2Fconsole%2Fapp.js`)).status, 404);
});

test('expiry and rotation', async () => {
  const short = await issueToken(t, { trackingId: t.credentials.trackingId, expiresAt: new Date(Date.now() + 1_200).toISOString() });
  assert.equal((await stats('aggregate?period=day', short.body.token)).status, 200);
  await new Promise((r) => setTimeout(r, 1_300));
  assert.equal((await stats('aggregate?period=day', short.body.token)).body.error.code, 'embed_token_expired');

  const before = await issueToken(t, { trackingId: t.credentials.trackingId });
  assert.equal((await stats('aggregate?period=day', before.body.token)).status, 200);
  const rotate = await fetch(`${t.url}/api/admin/tenants/${t.credentials.tenantId}/rotate-embed-secret`, { method: 'POST', headers: { authorization: `Bearer ${t.credentials.adminApiKey}` } });
  assert.equal(rotate.status, 200);
  assert.equal((await rotate.json()).secret, undefined, 'the secret is never shown');
  const revoked = await stats('aggregate?period=day', before.body.token);
  assert.equal(revoked.status, 401);
  assert.equal(revoked.body.error.code, 'embed_token_revoked');
  const after = await issueToken(t, { trackingId: t.credentials.trackingId });
  assert.equal((await stats('aggregate?period=day', after.body.token)).status, 200, 'tokens issued after the rotation work');
});

test('rate limit per token', async () => {
  const a = await issueToken(t, { trackingId: t.credentials.trackingId });
  const b = await issueToken(t, { trackingId: t.credentials.trackingId });
  const statuses = await Promise.all(Array.from({ length: 100 }, () => stats('realtime/visitors', a.body.token).then((r) => r.status)));
  assert.ok(statuses.includes(429), 'a burst over the limit is refused');
  assert.ok(statuses.filter((s) => s === 200).length >= 60, 'the burst allowance is served');
  assert.equal((await stats('realtime/visitors', b.body.token)).status, 200, 'another token has its own bucket');
});
