/**
 * The guard of the REST admin routes (/api/admin/…): a Bearer admin-scope API key (no key or an
 * unknown one is 401 `unauthorized`; a tenant key is 403 `tenant_key_not_allowed`, as in the tRPC
 * admin API, so the caller learns the key is valid but has the wrong scope), and the
 * route's own errors (each with a status and a `{ error: { code, message } }` body) answered as
 * such. Anything else propagates to fastify's error handler.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorBody, reject } from '../core/errors.ts';
import type { Registry } from '../core/ports/index.ts';
import { hashApiKey } from './identifiers.ts';

/** An error a route answers with its own status and body. */
export interface RouteError extends Error {
  readonly status: number;
  toJSON(): unknown;
}

export type AdminHandler = (req: FastifyRequest) => Promise<{ status?: number; body: unknown }>;

export function adminRoutes(registry: Pick<Registry, 'findApiKeyByHash'>, isRouteError: (error: unknown) => error is RouteError) {
  return (handler: AdminHandler) => async (req: FastifyRequest, reply: FastifyReply) => {
    const key = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const record = key ? await registry.findApiKeyByHash(hashApiKey(key)) : undefined;
    if (!record || record.scope !== 'admin') {
      const r = reject(record ? 'tenant_key_not_allowed' : 'unauthorized');
      return reply.code(r.status).send(errorBody(r));
    }
    try {
      const { status = 200, body } = await handler(req);
      return reply.code(status).send(body);
    } catch (error) {
      if (isRouteError(error)) return reply.code(error.status).send(error.toJSON());
      throw error;
    }
  };
}
