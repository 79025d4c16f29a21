/**
 * The OpenAPI document against the validators (the document was once looser
 * than the validation). The event schema is checked against the zod validator both ways on sampled
 * events; stats parameters one way (what the document calls valid, parseQuery accepts; the
 * validator may take more, e.g. time-zone aliases). See the header of openapi.ts for why the
 * schema is not generated from zod.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { openApiDocument } from './openapi.ts';
import { validateEvent } from '../../collectors/validate.ts';
import { ALLOWED_PARAMS, parseQuery, type Endpoint } from '../../query/params.ts';
import { QUERY_ROUTES } from '../../query/http.ts';
import { DEFAULT_QUERY_CONFIG } from '../../query/index.ts';

const doc = openApiDocument('http://127.0.0.1:8420');
const ajv = new Ajv2020({ strict: false });
(addFormatsModule as unknown as (a: Ajv2020) => void)(ajv);
ajv.addSchema({ $id: 'api', components: doc.components });
const compile = (schema: unknown) => ajv.compile(JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"api#/components/')));
const eventDoc = compile({ $ref: '#/components/schemas/Event' });
const batchDoc = compile({ $ref: '#/components/schemas/Batch' });

const NOW = Date.now();
const LIMITS = { maxEventAgeHours: 72, maxFutureSkewMs: 600_000 };
/** The validator's shape check (time checks aside: ts is inside the window in every sample). */
const zodAccepts = (e: unknown) => validateEvent(e, NOW, LIMITS).ok;

const base = () => ({ eventId: randomUUID(), trackingId: 'AL-TEST1', url: 'https://shop.example/p' });

test('regression: the document refuses the events the validator refuses (empty trackingId, relative url, long prop values)', () => {
  const bad: Record<string, unknown>[] = [
    { ...base(), trackingId: '' },
    { ...base(), trackingId: 'has space' },
    { ...base(), url: '/relative/path' },
    { ...base(), props: { plan: 'x'.repeat(257) } },
    { ...base(), props: { '': 'v' } },
    { ...base(), eventId: 'urn:uuid:6f1c1b3e-3f5a-4c2e-9a7e-1d2c3b4a5f60' },
    { ...base(), type: 'event' },
    { ...base(), name: 'Signup' },
    { ...base(), ts: 0 },
    { ...base(), revenue: { amount: 2e12, currency: 'EUR' } },
  ];
  for (const e of bad) {
    assert.equal(zodAccepts(e), false, `validator refuses ${JSON.stringify(e)}`);
    assert.equal(eventDoc(e), false, `document refuses ${JSON.stringify(e)}`);
  }
  assert.equal(batchDoc([]), false, 'an empty batch is refused');
  assert.equal(batchDoc({ events: [] }), false, 'an empty {events} batch is refused');
  assert.equal(batchDoc(Array.from({ length: 501 }, base)), false, '501 events are refused');
});

// Values near every limit, of every JSON type: most samples sit on a boundary.
const str = (n: number, c = 'a') => c.repeat(n);
const anyJson = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string(), fc.constant([]), fc.constant({}));
const field: Record<string, fc.Arbitrary<unknown>> = {
  eventId: fc.oneof(fc.uuid().map(String), fc.constantFrom('', 'x', 'urn:uuid:6f1c1b3e-3f5a-4c2e-9a7e-1d2c3b4a5f60', '6F1C1B3E-3F5A-4C2E-9A7E-1D2C3B4A5F60', '6f1c1b3e3f5a4c2e9a7e1d2c3b4a5f60'), anyJson),
  trackingId: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{0,66}$/), fc.constantFrom('', 'a b', 'é', str(64), str(65)), anyJson),
  type: fc.oneof(fc.constantFrom('pageview', 'event', 'Pageview', ''), anyJson),
  name: fc.oneof(fc.constantFrom('', 'Signup', str(120), str(121), str(120, '😀'), str(121, '😀')), anyJson),
  url: fc.oneof(fc.webUrl(), fc.constantFrom('/rel', 'shop.example', 'https://shop.example/' + str(2026), 'https://shop.example/' + str(2027), 'mailto:a@b.example', 'app://home', 'http://a b', '', 'https://' + str(600, '😀')), anyJson),
  referrer: fc.oneof(fc.constantFrom('', str(2048), str(2049), str(2048, '😀')), anyJson),
  title: fc.oneof(fc.constantFrom('', str(512), str(513), str(512, 'ü'), str(512, '😀'), str(513, '😀')), anyJson),
  ts: fc.oneof(fc.integer({ min: NOW - 3_600_000, max: NOW }), fc.constantFrom(NOW + 0.5, 0, -1, 1.5), anyJson),
  props: fc.oneof(
    fc.dictionary(fc.oneof(fc.constantFrom('', str(64), str(65), str(64, '😀')), fc.string({ minLength: 1, maxLength: 5 })), fc.oneof(fc.constantFrom(str(256), str(257), str(256, '😀'), str(257, '😀')), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string(), anyJson), { maxKeys: 32 }),
    fc.constant(Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i]))),
    fc.constant(Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`k${i}`, i]))),
    anyJson,
  ),
  revenue: fc.oneof(fc.record({ amount: fc.oneof(fc.double({ min: -1, max: 2e12, noNaN: true }), fc.constantFrom(0, 1e12, 1e12 + 1)), currency: fc.constantFrom('EUR', 'eur', 'EURO', 'US') }, { requiredKeys: [] }), fc.constant({ amount: 1, currency: 'EUR', extra: 1 }), anyJson),
  extra: anyJson,
};

const eventSample = fc
  .tuple(fc.record(field, { requiredKeys: [] }), fc.subarray(['eventId', 'trackingId', 'url']), fc.boolean())
  .map(([parts, kept, named]) => {
    const e: Record<string, unknown> = { ...base(), ...(named ? { type: 'event', name: 'Signup' } : {}) };
    for (const k of ['eventId', 'trackingId', 'url']) if (!kept.includes(k)) delete e[k];
    return { ...e, ...parts };
  });

test('event schema and validator agree on sampled events, both ways', () => {
  fc.assert(
    fc.property(eventSample, (e) => {
      const byDoc = eventDoc(e);
      const byZod = zodAccepts(e);
      assert.equal(byDoc, byZod, `document ${byDoc ? 'accepts' : `refuses (${ajv.errorsText(eventDoc.errors)})`}, validator ${byZod ? 'accepts' : `refuses (${JSON.stringify(validateEvent(e, NOW, LIMITS))})`}: ${JSON.stringify(e).slice(0, 400)}`);
    }),
    { numRuns: 3_000, seed: Number(process.env.FC_SEED ?? 20_26_11_02) },
  );
});

const ENDPOINT_OF_PATH = QUERY_ROUTES;
const parameters = (path: string) => (doc.paths as any)[path].get.parameters as { name: string; required?: boolean; schema: object }[];

test('each stats endpoint documents exactly the parameters parseQuery allows', () => {
  for (const [path, endpoint] of Object.entries(ENDPOINT_OF_PATH)) {
    assert.deepEqual(parameters(path).map((p) => p.name).sort(), [...ALLOWED_PARAMS[endpoint]].sort(), path);
  }
});

test('regression: the document refuses stats parameters the validator refuses (site_id empty)', () => {
  const siteId = compile(parameters('/api/v1/stats/aggregate').find((p) => p.name === 'site_id')!.schema);
  for (const v of ['', 'a b', 'x'.repeat(65)]) {
    assert.equal(siteId(v), false, `document refuses site_id=${v}`);
    assert.equal('ok' in parseQuery('aggregate', { site_id: v }, DEFAULT_QUERY_CONFIG), true, `validator refuses site_id=${v}`);
  }
});

/** Values a client generated from the document might send for one parameter, valid or not. */
const paramValue = fc.oneof(
  fc.string(),
  fc.constantFrom('', '0', '1', '1000', '1001', '-1', '1.5', 'day', 'custom', 'realtime', 'hour', 'minute', 'visitors,pageviews', 'visitors,', 'source', 'event:page', '/blog/', '/' + 'x'.repeat(511), '/' + 'x'.repeat(512), '/' + '😀'.repeat(511)),
  fc.date({ min: new Date('1990-01-01'), max: new Date('2030-12-31'), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.date({ min: new Date('1990-01-01'), max: new Date('2030-12-31'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
  fc.constantFrom('Europe/Berlin', 'UTC', 'utc', 'Mars/Base', 'America/Argentina/Buenos_Aires'),
);
/** The parameters each one needs beside it (stated in the document's descriptions): the other end of the range, a day away. */
const companions = (name: string, value: string): Record<string, string> => {
  const at = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
  if (!Number.isFinite(at)) return {};
  const iso = (ms: number) => new Date(ms).toISOString();
  return name === 'from' ? { to: iso(at + 86_400_000) } : name === 'to' ? { from: iso(at - 86_400_000) } : {};
};

test('a stats parameter the document calls valid is accepted by parseQuery', () => {
  for (const [path, endpoint] of Object.entries(ENDPOINT_OF_PATH) as [string, Endpoint][]) {
    for (const p of parameters(path)) {
      if (p.name === 'site_id' || p.name === 'property') continue;
      const valid = compile(p.schema);
      const required: Record<string, string> = { site_id: 'AL-TEST1', ...(endpoint === 'breakdown' ? { property: 'page' } : {}) };
      fc.assert(
        fc.property(paramValue, (value) => {
          // A value may be a number in the schema (limit, page); the query string carries text.
          const asSchemaValue = /^-?\d+$/.test(value) && (p.schema as { type?: string }).type === 'integer' ? Number(value) : value;
          if (!valid(asSchemaValue)) return;
          // Constraints between parameters the descriptions state: custom needs a date pair, from a to.
          if (p.name === 'period' && value === 'custom') return;
          if (p.name === 'date' && value.includes(',')) return;
          if (p.name === 'date' && !/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/.test(value)) return; // calendar validity: see below
          const out = parseQuery(endpoint, { ...required, ...companions(p.name, value), [p.name]: value }, DEFAULT_QUERY_CONFIG);
          assert.ok(!('ok' in out), `${endpoint}: ${p.name}=${value} is valid by the document, refused: ${'ok' in out ? out.detail : ''}`);
        }),
        { numRuns: 300, seed: 7 },
      );
    }
  }
});
