/**
 * The collector's routes (mounted by createCollector in http.ts):
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
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errorBody, reject } from '../core/errors.ts';
import { LIMITS } from '../core/event.ts';
import type { CollectorConfig } from './config.ts';
import type { IngestCounters } from './counters.ts';
import type { Ingest } from './ingest/pipeline.ts';
import { pixelEvent } from './pixel.ts';
import { countAndSend, sendOutcomeRejection, sendRejection, setAllowOrigin, withDropped } from './replies.ts';
import { acceptsGzip, eventsOf, parseBody, requestFacts } from './request.ts';
import { getTracker } from './tracker/build.ts';

const TRANSPARENT_GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

type Log = (message: string, err: unknown) => void;

export async function collectorPlugin(app: FastifyInstance, ingest: Ingest, counters: IngestCounters, config: CollectorConfig, log: Log): Promise<void> {
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

function limitFor(req: FastifyRequest, config: CollectorConfig): number {
  return req.url.startsWith('/api/batch') ? config.maxBodyBytes.batch : config.maxBodyBytes.event;
}
