/**
 * Keeps /api/openapi.json true: real responses of a running appliance are validated against the
 * schema the document gives for their path, method and status.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { startTestAppliance, type TestAppliance } from '../support/appliance.ts';

let t: TestAppliance;
let doc: any;
const ajv = new Ajv2020({ strict: false, validateFormats: false });

before(async () => {
  t = await startTestAppliance();
  const res = await fetch(`${t.url}/api/openapi.json`);
  assert.equal(res.status, 200);
  doc = await res.json();
  ajv.addSchema({ $id: 'api', components: doc.components });
});
after(() => t?.close());

function withRefs(schema: unknown): unknown {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"api#/components/'));
}

/** Sends a request and checks status and body against the document. */
async function conforms(method: 'GET' | 'POST', path: string, init: RequestInit & { query?: string } = {}): Promise<number> {
  const res = await fetch(`${t.url}${path}${init.query ? `?${init.query}` : ''}`, { ...init, method });
  const operation = doc.paths[path]?.[method.toLowerCase()];
  assert.ok(operation, `${method} ${path} is documented`);
  const response = operation.responses[String(res.status)];
  assert.ok(response, `${method} ${path} → ${res.status} is documented`);
  const type = (res.headers.get('content-type') ?? '').split(';')[0];
  const media = response.content?.[type];
  if (response.content) assert.ok(media, `${method} ${path} → ${res.status} documents ${type}`);
  if (media?.schema) {
    const body = await res.json();
    const validate = ajv.compile(withRefs(media.schema) as object);
    assert.ok(validate(body), `${method} ${path} → ${res.status}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(body).slice(0, 300)}`);
  } else await res.arrayBuffer();
  return res.status;
}

test('collector responses match the document', async () => {
  const tid = t.credentials.trackingId;
  const json = { 'content-type': 'application/json', origin: 'https://shop.example', 'user-agent': 'Mozilla/5.0 Firefox/121.0' };
  const event = () => ({ eventId: randomUUID(), trackingId: tid, url: 'https://shop.example/' });
  assert.equal(await conforms('POST', '/api/event', { headers: json, body: JSON.stringify(event()) }), 202);
  assert.equal(await conforms('POST', '/api/event', { headers: json, body: '{' }), 400);
  assert.equal(await conforms('POST', '/api/event', { headers: json, body: JSON.stringify({ ...event(), trackingId: 'AL-NONE' }) }), 401);
  assert.equal(await conforms('POST', '/api/batch', { headers: json, body: JSON.stringify([event(), { ...event(), eventId: 'x' }]) }), 202);
  assert.equal(await conforms('POST', '/api/batch', { headers: json, body: JSON.stringify([{ ...event(), eventId: 'x' }]) }), 400);
  const repeated = event();
  assert.equal(await conforms('POST', '/api/batch', { headers: json, body: JSON.stringify([repeated, repeated]) }), 202); // dropped: { repeated: 1 }
  assert.equal(await conforms('GET', '/px.gif', { query: `d=${encodeURIComponent(JSON.stringify(event()))}`, headers: { referer: 'https://shop.example/' } }), 200);
  assert.equal(await conforms('GET', '/tracker.js'), 200);
  assert.equal(await conforms('GET', '/healthz'), 200);
});

test('stats responses match the document', async () => {
  const { trackingId, adminApiKey } = t.credentials;
  const auth = { authorization: `Bearer ${adminApiKey}` };
  const site = `site_id=${trackingId}`;
  assert.equal(await conforms('GET', '/api/v1/stats/aggregate', { headers: auth, query: `${site}&period=7d&compare=previous_period&metrics=visitors,pageviews,revenue,bounce_rate` }), 200);
  assert.equal(await conforms('GET', '/api/v1/stats/timeseries', { headers: auth, query: `${site}&period=day&metrics=visitors,revenue` }), 200);
  assert.equal(await conforms('GET', '/api/v1/stats/breakdown', { headers: auth, query: `${site}&period=30d&property=source` }), 200);
  assert.equal(await conforms('GET', '/api/v1/stats/realtime/visitors', { headers: auth, query: site }), 200);
  assert.equal(await conforms('GET', '/api/v1/stats/aggregate', { headers: auth, query: `${site}&period=fortnight` }), 400);
  assert.equal(await conforms('GET', '/api/v1/stats/aggregate', { query: site }), 401);
  assert.equal(await conforms('GET', '/api/v1/stats/breakdown', { headers: auth, query: `${site}&period=day&property=shoe_size` }), 400);
});

test('regression: a wrong method on a known path answers 405 with Allow, not 404', async () => {
  const cases: [string, string, string][] = [
    ['POST', '/api/v1/stats/aggregate', 'GET, HEAD'],
    ['GET', '/api/event', 'OPTIONS, POST'],
    ['DELETE', '/api/admin/replays', 'GET, HEAD, POST'],
    ['GET', '/api/admin/replays/rp_1/cancel', 'POST'],
  ];
  for (const [method, path, allow] of cases) {
    const res = await fetch(`${t.url}${path}`, { method });
    assert.equal(res.status, 405, `${method} ${path}`);
    assert.equal(res.headers.get('allow'), allow, `${method} ${path}`);
    assert.equal((await res.json()).error.code, 'method_not_allowed');
  }
  const missing = await fetch(`${t.url}/api/no-such-thing`);
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.code, 'not_found');
});

test('413 and 415 of the collector match the document', async () => {
  const tid = t.credentials.trackingId;
  assert.equal(await conforms('POST', '/api/event', { headers: { 'content-type': 'application/xml' }, body: '<e/>' }), 415);
  const big = JSON.stringify({ eventId: randomUUID(), trackingId: tid, url: 'https://shop.example/', title: 'x'.repeat(2 * 1024 * 1024) });
  assert.equal(await conforms('POST', '/api/event', { headers: { 'content-type': 'application/json' }, body: big }), 413);
  const tooMany = Array.from({ length: 501 }, () => ({ eventId: randomUUID(), trackingId: tid, url: 'https://shop.example/' }));
  assert.equal(await conforms('POST', '/api/batch', { headers: { 'content-type': 'application/json' }, body: JSON.stringify(tooMany) }), 413);
});
