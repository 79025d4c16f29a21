/**
 * The collector's HTTP surface, mounted into the appliance's fastify server:
 *
 *   POST /api/event   one event          → 202 {"accepted":1} or {"accepted":0,"dropped":{"bot":1}} | errorBody
 *   POST /api/batch   [events] or {events:[…]}, ≤ 500
 *                                        → 202 {"accepted":n,"rejected":[…],"dropped":{"bot":b,"repeated":r}}
 *                                          400 with the same body (plus "error") when none was taken
 *   ("accepted": appended to the event log; "dropped", present when non-empty: taken but not
 *   appended. Resends from earlier requests are accepted; the aggregator counts them once.)
 *   GET  /px.gif      ?d=<JSON | base64url JSON> or ?tid=&u=&r=&n=&t=&id=&ts=
 *                                        → 200 1×1 GIF, always (rejections are only counted)
 *   GET  /tracker.js  the browser tracker (ETag, Cache-Control, gzip)
 *   OPTIONS /api/event, /api/batch       → 204 CORS preflight
 *
 * CORS: a preflight does not carry the tracking ID (it is in the body), so every preflight
 * is allowed (POST; Content-Type, X-Almanac-Key) and the origin is enforced on the actual
 * request, whose response carries Access-Control-Allow-Origin: <origin> only when that
 * origin is allowed for the tracking ID. The tracker's sendBeacon/text/plain requests are
 * "simple" requests and need no preflight at all.
 *
 * Server-side senders authenticate with X-Almanac-Key and may forward their visitor's
 * details in X-Almanac-Client-IP and X-Almanac-User-Agent (honoured only with a valid key);
 * otherwise the visitor ID and country come from the sending server itself, and its own
 * user agent is not bot-checked.
 *
 * Body parsing happens in an encapsulated plugin, so our text/plain-as-JSON parser and
 * error mapping do not leak into the rest of the appliance.
 */
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody, reject, type Rejection } from '../core/errors.ts';
import { LIMITS } from '../core/event.ts';
import type { EventLog, RateLimiter, Registry } from '../core/ports/index.ts';
import { createAuthenticator } from './auth.ts';
import { resolveCollectorConfig, type CollectorConfig, type CollectorConfigInput } from './config.ts';
import { createIngestCounters, type IngestCounters } from './counters.ts';
import { createEnricher, createSaltSource, openGeoReader, type GeoReader, type SaltSource } from './enrich/index.ts';
import { createIngest, type Dropped, type Ingest, type IngestOutcome, type RequestFacts } from './ingest.ts';
import { createLocalRateLimiter } from '../core/rate-limit.ts';
import { getTracker } from './tracker/build.ts';

export type { CollectorConfig, CollectorConfigInput } from './config.ts';
export { DEFAULT_COLLECTOR_CONFIG } from './config.ts';

export interface CollectorDeps {
  eventLog: Pick<EventLog, 'append'>;
  /** Tracking IDs, tenants, ingest counters, and the daily salts shared by every collector (getOrCreateDailySalt). */
  registry: Pick<Registry, 'getTrackingId' | 'getTenant' | 'addIngestCounts' | 'getOrCreateDailySalt'>;
  /** Shared limiter in a cluster; defaults to an in-process one (createLocalRateLimiter). */
  rateLimiter?: RateLimiter;
  /**
   * Country lookups, opened once (openGeoReader). Undefined: the collector opens the bundled
   * DB-IP Lite database itself; null: no geolocation (country '').
   */
  geo?: GeoReader | null;
  now?: () => number;
  /** Operational messages (503s, failed counter flushes). Defaults to the fastify app's logger. */
  log?: (message: string) => void;
}

export interface Collector {
  /**
   * Adds the routes to `app` (as an encapsulated plugin; live once the app is ready) and stops
   * the collector when `app` closes. Call before app.ready()/listen().
   */
  register(app: FastifyInstance): void;
  /** In-memory ingest totals since start, per tracking ID ('' = unattributed). */
  readonly counters: IngestCounters;
  readonly config: CollectorConfig;
  /** The daily salts this process holds (memoised from the registry). */
  readonly salts: SaltSource;
  /** Stops the counter flush timer and flushes pending counts. Idempotent. */
  stop(): Promise<void>;
}

const SALT_FORGET_EVERY_MS = 60_000; // 1 min

export function createCollector(deps: CollectorDeps, configInput: CollectorConfigInput = {}): Collector {
  const config = resolveCollectorConfig(configInput);
  const now = deps.now ?? Date.now;
  let appLog: FastifyInstance['log'] | undefined;
  const log = (message: string, err: unknown) => {
    const text = `${message}: ${err instanceof Error ? err.message : String(err)}`;
    if (deps.log) deps.log(text);
    else appLog?.warn({ err }, message);
  };
  const counters = createIngestCounters({
    registry: deps.registry,
    now,
    onFlushError: (err) => log('collector: ingest counters flush failed; will retry', err),
  });
  const geo =
    deps.geo !== undefined
      ? deps.geo
      : openGeoReader().catch((err) => {
          log('collector: cannot open the GeoIP database; countries will be empty', err);
          return null;
        });
  const salts = createSaltSource(deps.registry);
  const ingest = createIngest(
    {
      eventLog: deps.eventLog,
      rateLimiter: deps.rateLimiter ?? createLocalRateLimiter({ now }),
      auth: createAuthenticator({ registry: deps.registry, now }, { memoMs: config.authMemoMs }),
      enricher: createEnricher({ salts, geo }, { uaMemoEntries: config.uaMemoEntries }),
      counters,
      now,
      onUnavailable: (err, what) => log(`collector: answered 503, ${what}`, err),
    },
    config,
  );
  counters.start(config.counterFlushMs);
  // Without traffic no lookup would drop an old salt from memory: look every minute, so no copy
  // outlives the 48 h a salt may be kept.
  const saltTimer = setInterval(() => salts.forget(now(), SALT_FORGET_EVERY_MS), SALT_FORGET_EVERY_MS);
  saltTimer.unref();
  void getTracker().catch(() => {}); // build early; a failure surfaces on GET /tracker.js

  let stopped: Promise<void> | undefined;
  const collector: Collector = {
    counters,
    config,
    register(app) {
      appLog = app.log;
      app.register(async (scope) => collectorPlugin(scope, ingest, counters, config, log));
      app.addHook('onClose', async () => collector.stop());
    },
    salts,
    stop() {
      clearInterval(saltTimer);
      stopped ??= counters.stop();
      return stopped;
    },
  };
  return collector;
}

/** Shorthand for createCollector(deps, config).register(app); returns the collector (stop, counters). */
export function registerCollectorRoutes(app: FastifyInstance, deps: CollectorDeps, config: CollectorConfigInput = {}): Collector {
  const c = createCollector(deps, config);
  c.register(app);
  return c;
}

// ---------------------------------------------------------------- routes

const JSON_TYPES = new Set(['application/json', 'text/plain']);
const TRANSPARENT_GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

type Log = (message: string, err: unknown) => void;

async function collectorPlugin(app: FastifyInstance, ingest: Ingest, counters: IngestCounters, config: CollectorConfig, log: Log): Promise<void> {
  // Bodies arrive raw: we decide on media type and JSON ourselves so every failure gets our
  // error codes (fastify's own parsers answer in their own shape).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: { statusCode?: number; code?: string; message?: string }, req, reply) => {
    const status = err.statusCode ?? 500;
    if (status === 413) return sendRejection(reply, reject('body_too_large', `limit ${limitFor(req, config)} bytes`));
    if (status === 415) return sendRejection(reply, reject('unsupported_media_type'));
    if (status >= 400 && status < 500) return sendRejection(reply, reject('malformed_json', err.message));
    log(`collector: unexpected error on ${req.method} ${req.url.split('?')[0]}; answered 503`, err);
    reply.header('retry-after', String(config.unavailableRetryAfterSec));
    return sendRejection(reply, reject('unavailable'));
  });

  for (const url of ['/api/event', '/api/batch']) {
    app.options(url, async (req, reply) => {
      const origin = req.headers.origin;
      reply
        .code(204)
        .header('access-control-allow-origin', origin ?? '*')
        .header('access-control-allow-methods', 'POST')
        .header('access-control-allow-headers', 'Content-Type, X-Almanac-Key')
        .header('access-control-max-age', '86400')
        .header('vary', 'Origin');
      return reply.send();
    });
  }

  app.post('/api/event', { bodyLimit: config.maxBodyBytes.event }, async (req, reply) => {
    reply.header('vary', 'Origin');
    const parsed = parseBody(req);
    if (!parsed.ok) return countAndSend(reply, counters, parsed);
    const out = await ingest([parsed.value], requestFacts(req, config));
    if (!out.ok) return sendOutcomeRejection(reply, out);
    setAllowOrigin(reply, out.allowOrigin);
    const r = out.rejected[0];
    if (r) return sendRejection(reply, reject(r.code, r.detail));
    return reply.code(202).send(withDropped({ accepted: out.accepted }, out.dropped));
  });

  app.post('/api/batch', { bodyLimit: config.maxBodyBytes.batch }, async (req, reply) => {
    reply.header('vary', 'Origin');
    const parsed = parseBody(req);
    if (!parsed.ok) return countAndSend(reply, counters, parsed);
    const items = Array.isArray(parsed.value) ? parsed.value : eventsOf(parsed.value);
    if (!items) return countAndSend(reply, counters, reject('invalid_event', 'send a JSON array of events, or {"events": [...]}'));
    if (items.length === 0) return countAndSend(reply, counters, reject('batch_empty'));
    if (items.length > LIMITS.batchEvents) return countAndSend(reply, counters, reject('batch_too_large', `${items.length} events; at most ${LIMITS.batchEvents} per batch`));
    const out = await ingest(items, requestFacts(req, config));
    if (!out.ok) return sendOutcomeRejection(reply, out);
    setAllowOrigin(reply, out.allowOrigin);
    const body = withDropped({ accepted: out.accepted, rejected: out.rejected }, out.dropped);
    const first = out.rejected[0];
    if (out.accepted === 0 && !body.dropped && first) {
      // Nothing taken: an error status, with the same body plus the usual "error" member.
      const firstRejection = reject(first.code, first.detail);
      return reply.code(400).send({ ...errorBody(firstRejection), ...body });
    }
    return reply.code(202).send(body);
  });

  app.get('/px.gif', async (req, reply) => {
    reply.header('content-type', 'image/gif').header('cache-control', 'no-store, max-age=0');
    const item = pixelEvent(req.query as Record<string, unknown>, req.headers.referer);
    // The image is the same whatever happened, so a pixel never breaks a page or an e-mail;
    // outcomes are only counted (inside ingest, or here when the query is unusable).
    if (!item.ok) counters.add(null, `rejected:${item.code}`);
    else {
      try {
        await ingest([item.value], { ...requestFacts(req, config), pixel: true });
      } catch (err) {
        log('collector: pixel intake failed', err);
      }
    }
    return reply.code(200).send(TRANSPARENT_GIF);
  });

  app.get('/tracker.js', async (req, reply) => {
    const t = await getTracker();
    reply
      .header('content-type', 'application/javascript; charset=utf-8')
      .header('cache-control', `public, max-age=${config.trackerMaxAgeSec}`)
      .header('etag', t.etag)
      .header('vary', 'Accept-Encoding')
      // Sites sending Cross-Origin-Embedder-Policy can still load it.
      .header('cross-origin-resource-policy', 'cross-origin');
    if (req.headers['if-none-match'] === t.etag) return reply.code(304).send();
    if (acceptsGzip(req.headers['accept-encoding'])) return reply.header('content-encoding', 'gzip').send(t.gzip);
    return reply.send(t.code);
  });
}

// ---------------------------------------------------------------- helpers

function withDropped<T extends object>(body: T, dropped: Dropped): T & { dropped?: Dropped } {
  return Object.keys(dropped).length > 0 ? { ...body, dropped } : body;
}

type Parsed = { ok: true; value: unknown } | Rejection;

function parseBody(req: FastifyRequest): Parsed {
  const ct = req.headers['content-type'];
  const media = (ct ?? '').split(';')[0]!.trim().toLowerCase();
  if (!JSON_TYPES.has(media)) return reject('unsupported_media_type', `got ${ct ? `"${ct.slice(0, 100)}"` : 'no Content-Type'}`);
  const buf = req.body instanceof Buffer ? req.body : Buffer.alloc(0);
  // Strip a UTF-8 BOM: some server-side HTTP clients add one.
  const text = buf.toString('utf8').replace(/^\uFEFF/, '');
  if (!text.trim()) return reject('malformed_json', 'the body is empty');
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return reject('malformed_json', (err as Error).message.slice(0, 200));
  }
}

function eventsOf(v: unknown): unknown[] | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const events = (v as { events?: unknown }).events;
  return Array.isArray(events) ? events : undefined;
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function requestFacts(req: FastifyRequest, config: Pick<CollectorConfig, 'trustProxy'>): RequestFacts {
  return {
    origin: header(req, 'origin'),
    serverKey: header(req, 'x-almanac-key'),
    referer: header(req, 'referer'),
    ip: clientIp(req.socket.remoteAddress, header(req, 'x-forwarded-for'), config.trustProxy),
    userAgent: header(req, 'user-agent') ?? '',
    forwardedIp: header(req, 'x-almanac-client-ip')?.trim(),
    forwardedUserAgent: header(req, 'x-almanac-user-agent'),
  };
}

/**
 * The visitor's IP: the socket peer, or, behind a trusted proxy, the first X-Forwarded-For
 * entry (the client as the outermost proxy saw it). IPv4-mapped IPv6 becomes plain IPv4.
 */
export function clientIp(socketAddress: string | undefined, forwardedFor: string | undefined, trustProxy: boolean): string {
  if (trustProxy && forwardedFor) {
    const first = normaliseIp(forwardedFor.split(',')[0]!.trim());
    if (first) return first;
  }
  return normaliseIp(socketAddress ?? '') ?? '';
}

function normaliseIp(raw: string): string | undefined {
  let s = raw;
  // "[v6]:port" and "v4:port" as some proxies write them
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(s);
  if (bracket) s = bracket[1]!;
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(s)) s = s.slice(0, s.lastIndexOf(':'));
  if (s.toLowerCase().startsWith('::ffff:') && isIP(s.slice(7)) === 4) s = s.slice(7);
  return isIP(s) ? s : undefined;
}

function setAllowOrigin(reply: FastifyReply, origin: string | undefined): void {
  if (origin) reply.header('access-control-allow-origin', origin);
}

function sendRejection(reply: FastifyReply, r: Rejection): FastifyReply {
  return reply.code(r.status).send(errorBody(r));
}

function countAndSend(reply: FastifyReply, counters: IngestCounters, r: Rejection): FastifyReply {
  counters.add(null, `rejected:${r.code}`);
  return sendRejection(reply, r);
}

function sendOutcomeRejection(reply: FastifyReply, out: Extract<IngestOutcome, { ok: false }>): FastifyReply {
  setAllowOrigin(reply, out.allowOrigin);
  if (out.retryAfterSec !== undefined) reply.header('retry-after', String(out.retryAfterSec));
  return sendRejection(reply, out.rejection);
}

function limitFor(req: FastifyRequest, config: CollectorConfig): number {
  return req.url.startsWith('/api/batch') ? config.maxBodyBytes.batch : config.maxBodyBytes.event;
}

function acceptsGzip(accept: string | string[] | undefined): boolean {
  const v = Array.isArray(accept) ? accept.join(',') : (accept ?? '');
  return /\bgzip\b(?!\s*;\s*q\s*=\s*0(?:\.0*)?\b)/i.test(v);
}

/**
 * The pixel's event: `d` holds a JSON event (URL-encoded, or base64url for URL-safety), or
 * short parameters tid, u (url), r (referrer), n (custom event name), t (title), id (eventId),
 * ts. An <img> in a <noscript> or an e-mail cannot make a UUID or know its page, so a
 * missing eventId is generated and a missing url is the Referer.
 */
export function pixelEvent(query: Record<string, unknown>, referer: string | undefined): Parsed {
  const q = (k: string): string | undefined => {
    const v = query[k];
    const s = Array.isArray(v) ? v[0] : v;
    return typeof s === 'string' ? s : undefined;
  };
  let ev: Record<string, unknown>;
  const d = q('d');
  if (d !== undefined) {
    let text = d.trim();
    if (!text.startsWith('{')) text = Buffer.from(text, 'base64url').toString('utf8');
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (err) {
      return reject('malformed_json', `d: ${(err as Error).message.slice(0, 200)}`);
    }
    if (!v || typeof v !== 'object' || Array.isArray(v)) return reject('invalid_event', 'd: send one JSON object');
    ev = { ...(v as Record<string, unknown>) };
  } else {
    const name = q('n');
    const ts = q('ts');
    ev = {
      trackingId: q('tid'),
      type: name ? 'event' : 'pageview',
      ...(name ? { name } : {}),
      url: q('u'),
      ...(q('r') ? { referrer: q('r') } : {}),
      ...(q('t') ? { title: q('t') } : {}),
      ...(q('id') ? { eventId: q('id') } : {}),
      ...(ts !== undefined ? { ts: Number(ts) } : {}),
    };
  }
  ev.eventId ??= randomUUID();
  if (ev.url === undefined && referer) ev.url = referer;
  return { ok: true, value: ev };
}
