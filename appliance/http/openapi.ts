/**
 * The public API contract (OpenAPI 3.1) of the collector, the stats API and the REST admin
 * routes, served at /api/openapi.json.
 *
 * Every constraint here comes from the constants the validators use (LIMITS and the patterns in
 * core/event.ts, query/params.ts, query/tz.ts, the replay and embed-token limits), and
 * tests/e2e/openapi.test.ts checks the two against each other by sampling (fast-check values,
 * the document's schema through ajv vs. the zod validator / parseQuery, both directions), so
 * they cannot drift. Why not generate the schema from zod: the event schema is zod v3, whose
 * issues the collector turns into its error details (collectors/validate.ts); zod/v4's
 * toJSONSchema only converts v4 schemas, and v3's refinements (type/name coupling, URL parsing)
 * would come out as nothing. A hand-written schema over shared constants plus an agreement test
 * keeps the error messages and states every rule.
 *
 * Constraints between parameters (period vs. from/to, date with period=custom, page_prefix with
 * some metrics and intervals, ranges and bucket counts) and time-relative ones (ts within the
 * accepted age) cannot be said in OpenAPI; the parameter descriptions say them in words.
 */
import { DIMENSIONS } from '../../core/rollup/model.ts';
import { ERRORS } from '../../core/errors.ts';
import { LIMITS, TRACKING_ID_PATTERN, UUID_PATTERN } from '../../core/event.ts';
import { METRICS } from '../../query/metrics.ts';
import { INTERVALS, PERIODS } from '../../query/period.ts';
import { MAX_PAGE_PREFIX_CHARS, PROPERTY_ALIASES } from '../../query/params.ts';
import { DATETIME_PATTERN } from '../../query/tz.ts';
import { MAX_REPLAY_DAYS } from '../../control/replays.ts';
import { MAX_EMBED_DAYS } from '../../control/embed.ts';
import { CONTROL_ERROR_CODES } from '../../control/errors.ts';

/** The limits of this appliance that the document states (from its configuration). */
export interface DocumentLimits {
  maxBreakdownLimit: number;
  maxRangeDays: number;
  maxEventAgeHours: number;
  /** Body limits of POST /api/event and /api/batch, bytes (collector maxBodyBytes). */
  maxBodyBytes: { event: number; batch: number };
}

const DEFAULT_LIMITS: DocumentLimits = { maxBreakdownLimit: 1_000, maxRangeDays: 3_700, maxEventAgeHours: 72, maxBodyBytes: { event: 16 * 1024, batch: 1024 * 1024 } };

/** Codes of the admin routes' own errors: the control path's refusals (control/errors.ts). */
const ADMIN_ERROR_CODES = CONTROL_ERROR_CODES;

const errorSchema = (codes: readonly string[]) => ({
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string', enum: [...new Set(codes)] }, message: { type: 'string' }, detail: { type: 'string' } },
    },
  },
});

export const DATE_PATTERN = '^\\d{4}-\\d{2}-\\d{2}$';
const DATE_OR_PAIR_PATTERN = '^\\d{4}-\\d{2}-\\d{2}(,\\d{4}-\\d{2}-\\d{2})?$';
const METRICS_PATTERN = `^(${METRICS.join('|')})(,(${METRICS.join('|')}))*$`;
const trackingId = { type: 'string', minLength: 1, maxLength: 64, pattern: TRACKING_ID_PATTERN } as const;
const chars = (maxLength: number, minLength = 0) => ({ type: 'string', ...(minLength ? { minLength } : {}), maxLength });

function eventSchema(limits: DocumentLimits) {
  return {
    type: 'object',
    required: ['eventId', 'trackingId', 'url'],
    additionalProperties: false,
    properties: {
      eventId: { type: 'string', format: 'uuid', pattern: UUID_PATTERN, description: 'Client-generated UUID; the same ID sent twice is counted once.' },
      trackingId,
      type: { type: 'string', enum: ['pageview', 'event'], default: 'pageview' },
      name: { ...chars(LIMITS.nameChars, 1), description: 'Custom event name: required with type "event", absent with "pageview".' },
      url: { ...chars(LIMITS.urlChars), format: 'uri', pattern: '^[A-Za-z][A-Za-z0-9+.-]*:', description: 'Absolute URL of the page.' },
      referrer: chars(LIMITS.urlChars),
      title: chars(LIMITS.titleChars),
      ts: {
        type: 'integer', minimum: 1,
        description: `Client time, ms since the epoch; omitted means now. Older than ${limits.maxEventAgeHours} h (timestamp_too_old) or more than a little ahead of the collector clock (timestamp_in_future) is refused with 400.`,
      },
      props: {
        type: 'object',
        maxProperties: LIMITS.propsCount,
        propertyNames: chars(LIMITS.propKeyChars, 1),
        additionalProperties: { oneOf: [chars(LIMITS.propValueChars), { type: 'number' }] },
      },
      revenue: {
        type: 'object',
        required: ['amount', 'currency'],
        additionalProperties: false,
        properties: { amount: { type: 'number', minimum: 0, maximum: 1e12 }, currency: { type: 'string', pattern: '^[A-Z]{3}$' } },
      },
    },
    // type "event" needs a name; a pageview (the default type) has none.
    if: { required: ['type'], properties: { type: { const: 'event' } } },
    then: { required: ['name'] },
    else: { not: { required: ['name'] } },
  };
}

const rejectedItem = {
  type: 'object',
  required: ['index', 'code', 'message'],
  properties: {
    index: { type: 'integer', minimum: 0 },
    eventId: { type: ['string', 'null'] },
    code: { type: 'string', enum: Object.keys(ERRORS) },
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

const replayView = {
  type: 'object',
  required: ['id', 'status', 'trackingIds', 'from', 'to', 'dryRun', 'percent', 'createdAt'],
  properties: {
    id: { type: 'string' }, status: { type: 'string' }, trackingIds: { type: 'array', items: { type: 'string' } },
    tenantId: { type: ['string', 'null'] }, from: { type: 'string' }, to: { type: 'string' }, days: { type: 'integer' },
    dryRun: { type: 'boolean' }, source: { type: 'string', enum: ['log', 'archive'] }, percent: { type: 'integer', minimum: 0, maximum: 100 },
    createdAt: { type: 'string' }, startedAt: { type: ['string', 'null'] }, finishedAt: { type: ['string', 'null'] },
  },
} as const;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ 'application/json': { schema } });
const retryAfter = { 'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 0 } } };

const STATUS_TEXT: Record<number, string> = {
  400: 'Invalid request (the body or a parameter; `detail` names it)', 401: 'Missing or unknown credentials, or an unknown tracking ID',
  403: 'Credentials valid but not for this resource', 404: 'No such resource (an unknown tracking ID, replay or tenant)',
  409: 'Conflicts with the current state', 413: 'Body too large (body_too_large) or too many events (batch_too_large)',
  415: 'Unsupported Content-Type', 429: 'Rate limited; retry after Retry-After seconds', 501: 'Not supported by this registry',
  503: 'Unavailable for now; retry after Retry-After seconds',
};
/** Error responses with the common error body (`schema`: Error or AdminError). */
const errors = (schema: string, ...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [String(c), { description: STATUS_TEXT[c], ...(c === 429 || c === 503 ? { headers: retryAfter } : {}), content: json(ref(schema)) }]));

export function openApiDocument(serverUrl: string, limits: DocumentLimits = DEFAULT_LIMITS) {
  const param = (name: string, schema: object, description?: string, required = false) => ({ name, in: 'query', ...(required ? { required } : {}), schema, ...(description ? { description } : {}) });
  const siteId = param('site_id', trackingId, 'Tracking ID.', true);
  const rangeParams = [
    siteId,
    param('period', { type: 'string', enum: [...PERIODS] }, 'Default 30d. Not with from/to (except custom); custom needs date=first,last.'),
    param('date', { type: 'string', pattern: DATE_OR_PAIR_PATTERN }, 'A calendar date YYYY-MM-DD (the end of the period; not with realtime), or YYYY-MM-DD,YYYY-MM-DD (first and last day) with period=custom.'),
    param('from', { type: 'string', pattern: DATETIME_PATTERN }, `ISO datetime; without an offset it is read in timezone. Goes with to (after from, at most ${limits.maxRangeDays} days later).`),
    param('to', { type: 'string', pattern: DATETIME_PATTERN }, 'ISO datetime, after from.'),
    param('timezone', { type: 'string', enum: ['UTC', ...Intl.supportedValuesOf('timeZone')] }, 'IANA time zone, default UTC (aliases such as Etc/GMT+5 are accepted too).'),
    param('metrics', { type: 'string', pattern: METRICS_PATTERN }, `Comma-separated metrics, default visitors: ${METRICS.join(', ')}.`),
  ];
  const pagePrefix = param('page_prefix', { type: 'string', pattern: '^/', maxLength: MAX_PAGE_PREFIX_CHARS }, 'Only pages whose path starts with this: with metrics visitors and pageviews only (aggregate, timeseries), with interval hour or coarser and a period other than realtime (timeseries), with property page, entry_page or exit_page (breakdown). An embed token with a fixed filter always applies its own.');
  const statsErrors = errors('Error', 400, 401, 403, 404, 429, 503);
  const ok = (schema: string) => ({ '200': { description: 'OK', content: json(ref(schema)) } });
  const stats = (summary: string, parameters: object[], schema: string) => ({ get: { summary, security: [{ apiKey: [] }], parameters, responses: { ...ok(schema), ...statsErrors } } });

  const adminErrors = (...codes: number[]) => errors('AdminError', 401, ...codes);
  const adminSecurity = [{ apiKey: [] }];
  const idParam = (name: string, description: string) => ({ name, in: 'path', required: true, schema: { type: 'string', minLength: 1 }, description });
  const preflight = { summary: 'CORS preflight; every origin may ask (the origin is checked on the request itself).', responses: { '204': { description: 'Preflight answered' } } };
  const collectorBodyNote = (bytes: number) => `At most ${bytes} bytes of JSON (413 body_too_large): long fields in multi-byte characters can reach it before their character limits. Also accepted as text/plain holding the same JSON (navigator.sendBeacon).`;

  return {
    openapi: '3.1.0',
    info: { title: 'Almanac public API', version: '1', description: 'Collector (ingest), stats API and REST admin routes of an Almanac appliance. A method a path does not take is answered 405 with Allow.' },
    servers: [{ url: serverUrl }],
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'Per-tenant API key (ak_…), or a dashboard embed token (emb1.…: its own tracking ID only, with its fixed filter). Admin routes need an admin-scope key.' },
        serverKey: { type: 'apiKey', in: 'header', name: 'X-Almanac-Key', description: 'Tracking ID server key (sk_…) for server-side sending.' },
      },
      schemas: {
        Error: errorSchema(Object.keys(ERRORS)),
        AdminError: errorSchema([...ADMIN_ERROR_CODES, ...Object.keys(ERRORS)]),
        Event: eventSchema(limits),
        Batch: {
          oneOf: [
            { type: 'array', items: ref('Event'), minItems: 1, maxItems: LIMITS.batchEvents },
            { type: 'object', required: ['events'], properties: { events: { type: 'array', items: ref('Event'), minItems: 1, maxItems: LIMITS.batchEvents } } },
          ],
          description: `1 to ${LIMITS.batchEvents} events of one tracking ID (the first event's; others are rejected per event).`,
        },
        Accepted: acceptedBody,
        Aggregate: { type: 'object', required: ['results', 'meta'], properties: { results: { type: 'object', additionalProperties: metricValue }, meta: { type: 'object' } } },
        Timeseries: {
          type: 'object',
          required: ['results'],
          properties: { results: { type: 'array', items: { type: 'object', required: ['date'], properties: { date: { type: 'string' } }, additionalProperties: { type: ['number', 'string', 'null', 'object'] } } }, meta: { type: 'object' } },
        },
        Breakdown: { type: 'object', required: ['results'], properties: { results: { type: 'array', items: { type: 'object', additionalProperties: { type: ['number', 'string', 'null', 'object'] } } }, meta: { type: 'object' } } },
        Realtime: { type: ['integer', 'object'] },
        Replay: replayView,
        StartReplay: {
          type: 'object',
          required: ['from', 'to'],
          properties: {
            trackingIds: { type: 'array', minItems: 1, items: trackingId },
            tenantId: { type: 'string', minLength: 1 },
            from: { type: 'string', pattern: DATE_PATTERN, description: 'First UTC day, not after to.' },
            to: { type: 'string', pattern: DATE_PATTERN, description: `Last UTC day (included), at the latest today; at most ${MAX_REPLAY_DAYS} days after from, within the tenant's retention.` },
            dryRun: { type: 'boolean' },
            source: { type: 'string', enum: ['auto', 'log', 'archive'] },
          },
          oneOf: [{ required: ['trackingIds'], not: { required: ['tenantId'] } }, { required: ['tenantId'], not: { required: ['trackingIds'] } }],
        },
        IssueEmbedToken: {
          type: 'object',
          required: ['trackingId'],
          properties: {
            trackingId,
            expiresInDays: { type: 'number', exclusiveMinimum: 0, maximum: MAX_EMBED_DAYS, description: 'Default 30.' },
            expiresAt: { type: ['string', 'integer'], description: `ISO time or ms since the epoch, in the future and at most ${MAX_EMBED_DAYS} days ahead; not with expiresInDays.` },
            pagePrefix: { type: 'string', pattern: '^/[^\\s?#]*$', maxLength: MAX_PAGE_PREFIX_CHARS },
            allowedOrigins: { type: 'array', items: { type: 'string', pattern: '^https?://[^/\\s?#]+$' }, description: 'Parent origins (scheme, host, port) allowed to frame the dashboard.' },
          },
          not: { required: ['expiresInDays', 'expiresAt'] },
        },
      },
    },
    paths: {
      '/api/event': {
        post: {
          summary: 'Send one event.',
          description: collectorBodyNote(limits.maxBodyBytes.event),
          security: [{}, { serverKey: [] }],
          requestBody: { required: true, content: json(ref('Event')) },
          responses: { '202': { description: 'Accepted (or a known bot, dropped)', content: json(ref('Accepted')) }, ...errors('Error', 400, 401, 403, 413, 415, 429, 503) },
        },
        options: preflight,
      },
      '/api/batch': {
        post: {
          summary: `Send up to ${LIMITS.batchEvents} events of one tracking ID; accepted in part, rejections reported per event.`,
          description: collectorBodyNote(limits.maxBodyBytes.batch),
          security: [{}, { serverKey: [] }],
          requestBody: { required: true, content: json(ref('Batch')) },
          responses: {
            '202': { description: 'Accepted (some may be rejected)', content: json(ref('Accepted')) },
            '400': { description: 'All rejected, or malformed', content: json({ anyOf: [{ allOf: [ref('Accepted'), ref('Error')] }, ref('Error')] }) },
            ...errors('Error', 401, 403, 413, 415, 429, 503),
          },
        },
        options: preflight,
      },
      '/px.gif': {
        get: {
          summary: 'Tracking pixel for places without JavaScript; always answers a 1×1 GIF.',
          parameters: [
            param('d', { type: 'string' }, 'The event as URL-encoded or base64url JSON.'),
            ...['tid', 'u', 'r', 'n', 't', 'id', 'ts'].map((n) => param(n, { type: 'string' }, 'Short form instead of d: tracking ID, url, referrer, event name, title, event ID, ts.')),
          ],
          responses: { '200': { description: 'GIF', content: { 'image/gif': {} } } },
        },
      },
      '/tracker.js': { get: { summary: 'The browser tracker.', responses: { '200': { description: 'JavaScript', content: { 'application/javascript': {} } }, '304': { description: 'Not modified (If-None-Match)' } } } },
      '/api/v1/stats/aggregate': stats('Headline figures over a period.', [...rangeParams, param('compare', { type: 'string', enum: ['previous_period'] }), pagePrefix], 'Aggregate'),
      '/api/v1/stats/timeseries': stats('Metrics per interval.', [...rangeParams, param('interval', { type: 'string', enum: [...INTERVALS] }, 'Default from the period; at most 5000 buckets.'), pagePrefix], 'Timeseries'),
      '/api/v1/stats/breakdown': stats('Metrics per value of one dimension.', [
        ...rangeParams,
        param('property', { type: 'string', enum: [...DIMENSIONS, ...Object.keys(PROPERTY_ALIASES)] }, undefined, true),
        param('limit', { type: 'integer', minimum: 1, maximum: limits.maxBreakdownLimit }),
        param('page', { type: 'integer', minimum: 1, maximum: 999_999_999 }),
        pagePrefix,
      ], 'Breakdown'),
      '/api/v1/stats/realtime/visitors': stats('Unique visitors in the last 5 minutes.', [siteId], 'Realtime'),
      '/api/admin/status': {
        get: { summary: 'Operational status: event log lag, aggregator, ingest counters, live nodes.', security: adminSecurity, responses: { '200': { description: 'OK', content: json({ type: 'object', required: ['profile'], properties: { profile: { type: 'string' } } }) }, ...adminErrors() } },
      },
      '/api/admin/replays': {
        get: { summary: 'The newest replay jobs.', security: adminSecurity, responses: { '200': { description: 'OK', content: json({ type: 'object', required: ['replays'], properties: { replays: { type: 'array', items: ref('Replay') } } }) }, ...adminErrors() } },
        post: {
          summary: 'Start a replay of tracking IDs or a tenant over whole UTC days.',
          security: adminSecurity,
          requestBody: { required: true, content: json(ref('StartReplay')) },
          responses: { '201': { description: 'Queued', content: json(ref('Replay')) }, ...adminErrors(400, 404, 409, 413, 415, 501) },
        },
      },
      '/api/admin/replays/{id}': {
        get: { summary: 'One replay job.', security: adminSecurity, parameters: [idParam('id', 'Replay ID (rp_…).')], responses: { '200': { description: 'OK', content: json(ref('Replay')) }, ...adminErrors(404) } },
      },
      '/api/admin/replays/{id}/cancel': {
        post: { summary: 'Cancel a queued or running replay.', security: adminSecurity, parameters: [idParam('id', 'Replay ID (rp_…).')], responses: { '200': { description: 'Cancelled or cancelling', content: json(ref('Replay')) }, ...adminErrors(404, 409) } },
      },
      '/api/admin/embed-tokens': {
        post: {
          summary: 'Issue a dashboard embed token, with its iframe and web-component snippets.',
          security: adminSecurity,
          requestBody: { required: true, content: json(ref('IssueEmbedToken')) },
          responses: {
            '201': { description: 'Issued', content: json({ type: 'object', required: ['token', 'trackingId', 'tenantId', 'expiresAt', 'iframeUrl', 'iframe', 'webComponent'], properties: { token: { type: 'string' }, trackingId: { type: 'string' }, tenantId: { type: 'string' }, tokenId: { type: 'string' }, expiresAt: { type: 'string' }, pagePrefix: { type: ['string', 'null'] }, allowedOrigins: { type: 'array', items: { type: 'string' } }, iframeUrl: { type: 'string' }, iframe: { type: 'string' }, webComponent: { type: 'string' } } }) },
            ...adminErrors(400, 404, 413, 415, 501),
          },
        },
      },
      '/api/admin/tenants/{id}/rotate-embed-secret': {
        post: { summary: "Rotate the tenant's embed secret: every embed token issued before stops working.", security: adminSecurity, parameters: [idParam('id', 'Tenant ID.')], responses: { '200': { description: 'Rotated', content: json({ type: 'object', required: ['generation'], properties: { generation: { type: 'integer' } } }) }, ...adminErrors(400, 404, 501) } },
      },
      '/healthz': { get: { summary: 'Ready when every role of this node is.', responses: { '200': { description: 'Ready', content: json({ type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['ok', 'degraded'] } } }) }, '503': { description: 'Starting or unavailable', content: json({ type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['starting', 'unavailable'] } } }) } } } },
    },
  };
}
