/**
 * One control function behind every front door: against one running appliance, the console's
 * door (tRPC over HTTP), the REST admin routes and the CLI hand out the same embed snippet, and
 * refuse the same bad input with the same code, each door answering with the status the code is
 * mapped to in control/errors.ts (HTTP status, tRPC code, CLI exit code).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client';
import type { AdminRouter } from '../../appliance/trpc/router.ts';
import { CONTROL_ERRORS, type ControlErrorCode } from '../../control/errors.ts';
import { MAX_WORKERS_PER_ROLE } from '../../core/desired-scale.ts';
import { DAY_MS } from '../../core/time.ts';
import { dayKey } from '../../pipeline/replay/index.ts';
import { startTestAppliance, type TestAppliance } from '../support/appliance.ts';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../appliance/bin/almanac.mjs');

let t: TestAppliance;
let trpc: ReturnType<typeof createTRPCClient<AdminRouter>>;
before(async () => {
  // An explicit public URL: on port 0 the in-process config would name port 0, the saved settings the bound port.
  t = await startTestAppliance({ ALMANAC_PUBLIC_URL: 'https://stats.shop.example' });
  trpc = createTRPCClient<AdminRouter>({ links: [httpLink({ url: `${t.url}/api/trpc`, headers: { authorization: `Bearer ${t.credentials.adminApiKey}` } })] });
});
after(async () => t.close());

interface Answer {
  code: string;
  /** HTTP status (REST), tRPC code, or exit code (CLI). */
  status: number | string;
  body?: any;
}

async function rest(method: 'POST', route: string, body: unknown): Promise<Answer> {
  const res = await fetch(`${t.url}${route}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${t.credentials.adminApiKey}` }, body: JSON.stringify(body) });
  const json = (await res.json()) as any;
  return { code: json.error?.code ?? 'ok', status: res.status, body: json };
}

async function viaTrpc(call: () => Promise<unknown>): Promise<Answer> {
  try {
    return { code: 'ok', status: 'OK', body: await call() };
  } catch (error) {
    assert.ok(error instanceof TRPCClientError, String(error));
    return { code: error.data?.appCode, status: error.data?.code };
  }
}

/** `almanac <args>` on the running appliance's data folder, as an admin would type it. */
function cli(...args: string[]): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args, '--data-dir', t.dataDir], { env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => {
      if (status === 0) return resolve({ code: 'ok', status: 0, body: JSON.parse(stdout) });
      resolve({ code: /\((\w+)\)\s*$/.exec(stderr)?.[1] ?? `unparsed: ${stderr}`, status: status ?? -1 });
    });
  });
}

/** Each door's answer carries the code and the status control/errors.ts maps it to. */
function assertSameRefusal(code: ControlErrorCode, answers: { rest?: Answer; trpc?: Answer; cli?: Answer }): void {
  const { status, trpc: trpcCode, exit } = CONTROL_ERRORS[code];
  if (answers.rest) assert.deepEqual([answers.rest.code, answers.rest.status], [code, status], `REST: ${JSON.stringify(answers.rest.body)}`);
  if (answers.trpc) assert.deepEqual([answers.trpc.code, answers.trpc.status], [code, trpcCode], 'tRPC');
  if (answers.cli) assert.deepEqual([answers.cli.code, answers.cli.status], [code, exit], 'CLI');
}

/** The snippets with the (per-issue) token taken out. */
function snippetShape(issued: { token: string; iframeUrl: string; iframe: string; webComponent: string }) {
  const out = (s: string) => s.replaceAll(encodeURIComponent(issued.token), '<token>').replaceAll(issued.token, '<token>');
  return { keys: Object.keys(issued).sort(), iframeUrl: out(issued.iframeUrl), iframe: out(issued.iframe), webComponent: out(issued.webComponent) };
}

test('the console, REST and the CLI hand out the same embed snippet', async () => {
  const trackingId = t.credentials.trackingId;
  const [fromRest, fromTrpc, fromCli] = [
    await rest('POST', '/api/admin/embed-tokens', { trackingId }),
    await viaTrpc(() => trpc.embed.issueToken.mutate({ trackingId })),
    await cli('embed-tokens', 'create', '--tracking-id', trackingId),
  ];
  assert.deepEqual([fromRest.status, fromTrpc.status, fromCli.status], [201, 'OK', 0]);
  const shape = snippetShape(fromRest.body);
  assert.deepEqual(snippetShape(fromTrpc.body), shape, 'console = REST');
  assert.deepEqual(snippetShape(fromCli.body), shape, 'CLI = REST');
  assert.match(shape.iframe, /^<iframe src="https:\/\/stats\.shop\.example\/embed\/dashboard\?token=<token>" style="width:100%;min-height:900px;border:0" loading="lazy" referrerpolicy="no-referrer" title="Analytics"><\/iframe>$/);
  assert.ok(shape.keys.includes('iframeUrl') && !shape.keys.includes('url'));
});

test('an embed token for a tracking ID that does not exist, or none: the same code at every door', async () => {
  assertSameRefusal('not_found', {
    rest: await rest('POST', '/api/admin/embed-tokens', { trackingId: 'AL-NOSUCHSITE' }),
    trpc: await viaTrpc(() => trpc.embed.issueToken.mutate({ trackingId: 'AL-NOSUCHSITE' })),
    cli: await cli('embed-tokens', 'create', '--tracking-id', 'AL-NOSUCHSITE'),
  });
  assertSameRefusal('invalid_request', {
    rest: await rest('POST', '/api/admin/embed-tokens', { trackingId: t.credentials.trackingId, expiresInDays: 9999 }),
    trpc: await viaTrpc(() => trpc.embed.issueToken.mutate({ trackingId: t.credentials.trackingId, expiresInDays: 9999 })),
    cli: await cli('embed-tokens', 'create', '--tracking-id', t.credentials.trackingId, '--expires-in-days', '9999'),
  });
});

test('a bad replay range, and a replay of an unknown tracking ID: the same code at every door', async () => {
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const [from, to] = [dayKey(today), dayKey(today - DAY_MS)]; // from after to
  const site = t.credentials.trackingId;
  assertSameRefusal('invalid_range', {
    rest: await rest('POST', '/api/admin/replays', { trackingIds: [site], from, to }),
    trpc: await viaTrpc(() => trpc.replays.start.mutate({ trackingIds: [site], from, to })),
    cli: await cli('replays', 'start', '--tracking-id', site, '--from', from, '--to', to),
  });
  assertSameRefusal('invalid_request', {
    rest: await rest('POST', '/api/admin/replays', { trackingIds: [site], from: 'yesterday', to }),
    trpc: await viaTrpc(() => trpc.replays.start.mutate({ trackingIds: [site], from: 'yesterday', to })),
    cli: await cli('replays', 'start', '--tracking-id', site, '--from', 'yesterday', '--to', to),
  });
  assertSameRefusal('unknown_tracking_id', {
    rest: await rest('POST', '/api/admin/replays', { trackingIds: ['AL-NOSUCHSITE'], from: to, to: from }),
    trpc: await viaTrpc(() => trpc.replays.start.mutate({ trackingIds: ['AL-NOSUCHSITE'], from: to, to: from })),
    cli: await cli('replays', 'start', '--tracking-id', 'AL-NOSUCHSITE', '--from', to, '--to', from),
  });
});

test('a worker count over the one limit is invalid_scale, from the admin API as from the registry', async () => {
  // Scaling has one door (the console's); the limit it meets is the registry's check, the one every write goes through.
  const counts = { collector: 1, archiver: 1, aggregator: MAX_WORKERS_PER_ROLE + 1, query: 1 };
  const refused = await viaTrpc(() => trpc.scaling.setDesired.mutate({ nodeId: 'node-a', counts }));
  assertSameRefusal('invalid_scale', { trpc: refused });
  assert.equal(MAX_WORKERS_PER_ROLE, 16);
});
