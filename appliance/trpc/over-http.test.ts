/**
 * The admin API over real HTTP against a running embedded appliance, with @trpc/client: HTTP
 * link for queries and mutations, httpSubscriptionLink (SSE) for replay progress, the token in
 * the Authorization header or, for SSE, in the connection params.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createTRPCClient, httpLink, httpSubscriptionLink, splitLink, TRPCClientError } from '@trpc/client';
import type { AdminRouter } from './router.ts';
import { startTestAppliance, waitFor, type TestAppliance } from '../../tests/support/appliance.ts';
import { FetchEventSource } from '../../tests/support/event-source.ts';
import { dayKey } from '../../pipeline/replay/index.ts';

function client(url: string, token: string | null) {
  return createTRPCClient<AdminRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({ url: `${url}/api/trpc`, EventSource: FetchEventSource as never, connectionParams: () => (token ? { token } : {}) }),
        false: httpLink({ url: `${url}/api/trpc`, headers: () => (token ? { authorization: `Bearer ${token}` } : {}) }),
      }),
    ],
  });
}

describe('admin API over HTTP (embedded appliance)', () => {
  let app: TestAppliance;
  let token: string;
  before(async () => {
    app = await startTestAppliance();
    assert.equal(app.credentials.adminUsername, 'admin', 'first start wrote the first admin user into credentials.json');
    token = (await client(app.url, null).auth.signIn.mutate({ username: app.credentials.adminUsername!, password: app.credentials.adminPassword! })).token;
  });
  after(async () => app.close());

  test('errors come back with a stable appCode and HTTP status; zod input errors as BAD_REQUEST', async () => {
    const noToken = await client(app.url, null).tenants.list.query().catch((e: unknown) => e);
    assert.ok(noToken instanceof TRPCClientError);
    assert.equal(noToken.data?.appCode, 'not_signed_in');
    assert.equal(noToken.data?.httpStatus, 401);
    assert.equal(noToken.data?.stack, undefined, 'no stack traces to clients');

    const res = await fetch(`${app.url}/api/trpc/tenants.list`, { headers: { authorization: `Bearer ${app.credentials.adminApiKey}` } });
    assert.equal(res.status, 200, 'the admin API key from credentials.json works with plain HTTP');
    assert.ok(((await res.json()) as { result: { data: unknown[] } }).result.data.length >= 1);

    const bad = await client(app.url, token).tenants.updateQuotas.mutate({ id: 'x', rateLimitPerSec: -5 }).catch((e: unknown) => e);
    assert.ok(bad instanceof TRPCClientError);
    assert.equal(bad.data?.httpStatus, 400);
    assert.equal(bad.data?.appCode, 'invalid_request');
  });

  test('a suspended tenant\'s ingest is refused with tenant_suspended, and accepted again after resume', async () => {
    const api = client(app.url, token);
    const { tenantId, trackingId, serverKey } = app.credentials;
    const send = () => fetch(`${app.url}/api/event`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-almanac-key': serverKey, 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0' },
      body: JSON.stringify({ eventId: randomUUID(), trackingId, url: 'https://shop.example/' }),
    });
    assert.equal((await send()).status, 202, 'accepted while active');
    await api.tenants.suspend.mutate({ id: tenantId });
    const refused = await waitFor(async () => (await send()).status !== 202, 10_000);
    assert.ok(refused);
    const res = await send();
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'tenant_suspended');
    await api.tenants.resume.mutate({ id: tenantId });
    assert.ok(await waitFor(async () => (await send()).status === 202, 10_000), 'accepted again after resume');
  });

  test('replay progress as an SSE subscription reaches 100 % and ends', async () => {
    const api = client(app.url, token);
    const today = dayKey(Math.floor(Date.now() / 86_400_000) * 86_400_000);
    const job = await api.replays.start.mutate({ trackingIds: [app.credentials.trackingId], from: today, to: today, source: 'archive' });
    const seen: { status: string; percent: number }[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no finish within 30 s; seen ${JSON.stringify(seen)}`)), 30_000);
      const sub = api.replays.progress.subscribe({ id: job.id }, {
        onData: (v) => seen.push({ status: v.status, percent: v.percent }),
        onError: (e) => { clearTimeout(timer); reject(e); },
        onComplete: () => { clearTimeout(timer); sub.unsubscribe(); resolve(); },
      });
    });
    assert.ok(seen.length >= 1);
    assert.deepEqual(seen.at(-1), { status: 'done', percent: 100 });
    assert.equal((await api.replays.get.query({ id: job.id })).status, 'done');
  });

  test('a subscription without a token is refused', async () => {
    const api = client(app.url, null);
    const error = await new Promise<unknown>((resolve) => {
      const sub = api.replays.progress.subscribe({ id: 'rp_x' }, { onError: (e) => { sub.unsubscribe(); resolve(e); }, onData: () => resolve(new Error('data without a token')) });
    });
    assert.ok(error instanceof TRPCClientError, String(error));
    assert.equal(error.data?.appCode, 'not_signed_in');
  });
});
