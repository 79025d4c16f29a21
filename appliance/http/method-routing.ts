/**
 * Wrong methods on known paths answer 405 with Allow (RFC 9110 §15.5.6) instead of fastify's
 * 404, and unknown paths answer 404, both in the common error body. The route table is learned
 * from fastify's onRoute hook, so a route added anywhere (encapsulated plugins included, as
 * long as they register after this) is known without a list to keep in step.
 */
import type { FastifyInstance } from 'fastify';
import { errorBody, reject } from '../../core/errors.ts';

interface KnownPath {
  match: RegExp;
  methods: Set<string>;
}

/** Call first, before any route is added. */
export function registerMethodRouting(app: FastifyInstance): void {
  const paths = new Map<string, KnownPath>();
  app.addHook('onRoute', (route) => {
    const url = route.url ?? route.path;
    if (!url || url === '*' || url.includes('*')) return;
    let known = paths.get(url);
    if (!known) {
      // ":param" segments match one path segment; everything else literally.
      const source = url.split('/').map((seg) => (seg.startsWith(':') ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/');
      known = { match: new RegExp(`^${source}/?$`), methods: new Set() };
      paths.set(url, known);
    }
    for (const m of [route.method].flat()) known.methods.add(m.toUpperCase());
  });

  const allowedFor = (path: string) => {
    const allowed = new Set<string>();
    for (const known of paths.values()) if (known.match.test(path)) for (const m of known.methods) allowed.add(m);
    return [...allowed].sort();
  };
  // In onRequest, before body parsing: a QUERY or PUT without a Content-Type is still a wrong method, not a bad body.
  app.addHook('onRequest', async (req, reply) => {
    if (!req.is404) return;
    const path = req.url.split('?')[0]!;
    const allowed = allowedFor(path);
    if (allowed.length === 0 || allowed.includes(req.method)) return;
    const r = reject('method_not_allowed', `${req.method} ${path}: allowed ${allowed.join(', ')}`);
    return reply.code(405).header('Allow', allowed.join(', ')).send(errorBody(r));
  });
  app.setNotFoundHandler(async (req, reply) => reply.code(404).send(errorBody(reject('not_found', `${req.method} ${req.url.split('?')[0]}`))));

  // Fastify's own request errors (body parsing, media type, size) in the common error body;
  // anything else is a bug and keeps its 500.
  app.setErrorHandler(async (err: { statusCode?: number; message?: string }, _req, reply) => {
    const status = err.statusCode ?? 500;
    if (status === 413) return reply.code(413).send(errorBody(reject('body_too_large', err.message)));
    if (status === 415) return reply.code(415).send(errorBody(reject('unsupported_media_type', err.message)));
    if (status >= 400 && status < 500) return reply.code(400).send(errorBody(reject('malformed_json', err.message)));
    throw err;
  });
}
