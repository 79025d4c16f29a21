/**
 * The public API contract (OpenAPI 3.1) of the collector and the stats API, served at
 * /api/openapi.json. tests/openapi.test.ts checks real responses against it, so it stays true.
 */
import { DIMENSIONS } from '../core/rollup.ts';
import { ERRORS } from '../core/errors.ts';

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: Object.keys(ERRORS) },
        message: { type: 'string' },
        detail: { type: 'string' },
      },
    },
  },
} as const;

const event = {
  type: 'object',
  required: ['eventId', 'trackingId', 'url'],
  additionalProperties: false,
  properties: {
    eventId: { type: 'string', format: 'uuid', description: 'Client-generated UUID; the same ID sent twice is counted once.' },
    trackingId: { type: 'string' },
    type: { type: 'string', enum: ['pageview', 'event'], default: 'pageview' },
    name: { type: 'string', maxLength: 120, description: 'Custom event name (type "event" only).' },
    url: { type: 'string', maxLength: 2048 },
    referrer: { type: 'string', maxLength: 2048 },
    title: { type: 'string', maxLength: 512 },
    ts: { type: 'integer', description: 'Client time, ms since the epoch; omitted means now.' },
    props: { type: 'object', maxProperties: 30, additionalProperties: { type: ['string', 'number'] } },
    revenue: {
      type: 'object',
      required: ['amount', 'currency'],
      additionalProperties: false,
      properties: { amount: { type: 'number', minimum: 0 }, currency: { type: 'string', pattern: '^[A-Z]{3}$' } },
    },
  },
} as const;

const rejectedItem = {
  type: 'object',
  required: ['index', 'code', 'message'],
  properties: {
    index: { type: 'integer' },
    eventId: { type: ['string', 'null'] },
    code: { type: 'string' },
    message: { type: 'string' },
    detail: { type: 'string' },
  },
} as const;

const acceptedBody = {
  type: 'object',
  required: ['accepted'],
  properties: {
    accepted: { type: 'integer', minimum: 0, description: 'Events appended to the event log. A resend of an earlier eventId is accepted here and counted once by the aggregator.' },
    rejected: { type: 'array', items: rejectedItem },
    dropped: {
      type: 'object',
      description: 'Present when valid events were taken but not appended, by reason.',
      additionalProperties: false,
      properties: {
        bot: { type: 'integer', minimum: 1, description: "A known bot's events (answered 202 so it does not retry)." },
        repeated: { type: 'integer', minimum: 1, description: 'Repeats of an eventId earlier in this request (kept once).' },
      },
    },
  },
} as const;

const metricValue = {
  type: 'object',
  required: ['value'],
  properties: { value: { type: ['number', 'object'] }, change: { type: ['number', 'null', 'object'] } },
} as const;

const errorResponses = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [String(c), { description: 'Error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }]));

const baseStatsParams = [
  { name: 'site_id', in: 'query', required: true, schema: { type: 'string' }, description: 'Tracking ID.' },
  { name: 'period', in: 'query', schema: { type: 'string', enum: ['realtime', 'day', '7d', '30d', 'month', '6mo', '12mo', 'custom'] } },
  { name: 'date', in: 'query', schema: { type: 'string' }, description: 'YYYY-MM-DD, or YYYY-MM-DD,YYYY-MM-DD with period=custom.' },
  { name: 'from', in: 'query', schema: { type: 'string', format: 'date-time' } },
  { name: 'to', in: 'query', schema: { type: 'string', format: 'date-time' } },
  { name: 'timezone', in: 'query', schema: { type: 'string' }, description: 'IANA time zone, default UTC.' },
  { name: 'metrics', in: 'query', schema: { type: 'string' }, description: 'Comma-separated metrics.' },
  { name: 'page_prefix', in: 'query', schema: { type: 'string' }, description: 'Only pages whose path starts with this (hour-or-coarser intervals; page, entry_page, exit_page breakdowns). An embed token with a fixed filter always applies its own.' },
];
const statsParams = [...baseStatsParams, { name: 'compare', in: 'query', schema: { type: 'string', enum: ['previous_period'] } }];

export function openApiDocument(serverUrl: string) {
  return {
    openapi: '3.1.0',
    info: { title: 'Almanac public API', version: '1', description: 'Collector (ingest) and stats API of an Almanac appliance.' },
    servers: [{ url: serverUrl }],
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'Per-tenant API key (ak_…), or a dashboard embed token (emb1.…: its own tracking ID only, with its fixed filter).' },
        serverKey: { type: 'apiKey', in: 'header', name: 'X-Almanac-Key', description: 'Tracking ID server key (sk_…) for server-side sending.' },
      },
      schemas: {
        Error: errorSchema,
        Event: event,
        Accepted: acceptedBody,
        Aggregate: {
          type: 'object',
          required: ['results', 'meta'],
          properties: { results: { type: 'object', additionalProperties: metricValue }, meta: { type: 'object' } },
        },
        Timeseries: {
          type: 'object',
          required: ['results'],
          properties: { results: { type: 'array', items: { type: 'object', required: ['date'], properties: { date: { type: 'string' } }, additionalProperties: { type: ['number', 'string', 'null', 'object'] } } }, meta: { type: 'object' } },
        },
        Breakdown: {
          type: 'object',
          required: ['results'],
          properties: { results: { type: 'array', items: { type: 'object', additionalProperties: { type: ['number', 'string', 'null', 'object'] } } }, meta: { type: 'object' } },
        },
        Realtime: { type: ['integer', 'object'] },
      },
    },
    paths: {
      '/api/event': {
        post: {
          summary: 'Send one event (JSON, or text/plain from navigator.sendBeacon).',
          security: [{}, { serverKey: [] }],
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Event' } }, 'text/plain': { schema: { type: 'string' } } } },
          responses: { '202': { description: 'Accepted', content: { 'application/json': { schema: { $ref: '#/components/schemas/Accepted' } } } }, ...errorResponses(400, 401, 403, 413, 415, 429, 503) },
        },
      },
      '/api/batch': {
        post: {
          summary: 'Send up to 500 events of one tracking ID; accepted in part, rejections reported per event.',
          security: [{}, { serverKey: [] }],
          requestBody: { required: true, content: { 'application/json': { schema: { oneOf: [{ type: 'array', items: { $ref: '#/components/schemas/Event' }, maxItems: 500 }, { type: 'object', properties: { events: { type: 'array', items: { $ref: '#/components/schemas/Event' } } } }] } } } },
          responses: {
            '202': { description: 'Accepted (some may be rejected)', content: { 'application/json': { schema: { $ref: '#/components/schemas/Accepted' } } } },
            '400': { description: 'All rejected, or malformed', content: { 'application/json': { schema: { anyOf: [{ $ref: '#/components/schemas/Accepted' }, { $ref: '#/components/schemas/Error' }] } } } },
            ...errorResponses(401, 403, 413, 415, 429, 503),
          },
        },
      },
      '/px.gif': {
        get: {
          summary: 'Tracking pixel for places without JavaScript; always answers a 1×1 GIF.',
          parameters: [{ name: 'd', in: 'query', schema: { type: 'string' }, description: 'The event as URL-encoded or base64url JSON.' }],
          responses: { '200': { description: 'GIF', content: { 'image/gif': {} } } },
        },
      },
      '/tracker.js': { get: { summary: 'The browser tracker.', responses: { '200': { description: 'JavaScript', content: { 'application/javascript': {} } } } } },
      '/api/v1/stats/aggregate': {
        get: { summary: 'Headline figures over a period.', security: [{ apiKey: [] }], parameters: statsParams, responses: { '200': { description: 'OK', content: { 'application/json': { schema: { $ref: '#/components/schemas/Aggregate' } } } }, ...errorResponses(400, 401, 403, 404) } },
      },
      '/api/v1/stats/timeseries': {
        get: { summary: 'Metrics per interval.', security: [{ apiKey: [] }], parameters: [...baseStatsParams, { name: 'interval', in: 'query', schema: { type: 'string', enum: ['minute', 'hour', 'day', 'month'] } }], responses: { '200': { description: 'OK', content: { 'application/json': { schema: { $ref: '#/components/schemas/Timeseries' } } } }, ...errorResponses(400, 401, 403, 404) } },
      },
      '/api/v1/stats/breakdown': {
        get: {
          summary: 'Metrics per value of one dimension.',
          security: [{ apiKey: [] }],
          parameters: [...baseStatsParams, { name: 'property', in: 'query', required: true, schema: { type: 'string', enum: [...DIMENSIONS] } }, { name: 'limit', in: 'query', schema: { type: 'integer' } }, { name: 'page', in: 'query', schema: { type: 'integer' } }],
          responses: { '200': { description: 'OK', content: { 'application/json': { schema: { $ref: '#/components/schemas/Breakdown' } } } }, ...errorResponses(400, 401, 403, 404) },
        },
      },
      '/api/v1/stats/realtime/visitors': {
        get: { summary: 'Unique visitors in the last 5 minutes.', security: [{ apiKey: [] }], parameters: [statsParams[0]], responses: { '200': { description: 'OK', content: { 'application/json': { schema: { $ref: '#/components/schemas/Realtime' } } } }, ...errorResponses(400, 401, 403, 404) } },
      },
      '/healthz': { get: { summary: 'Ready when every role of this node is.', responses: { '200': { description: 'Ready' }, '503': { description: 'Starting or degraded' } } } },
    },
  };
}
