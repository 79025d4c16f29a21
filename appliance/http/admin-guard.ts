/**
 * The guard of the REST admin routes (/api/admin/…): a Bearer admin-scope API key (no key or an
 * unknown one is 401 `unauthorized`; a tenant key is 403 `tenant_key_not_allowed`, as in the tRPC
 * admin API, so the caller learns the key is valid but has the wrong scope), and the control
 * operations' refusals (ControlError) answered with their mapped status and a
 * `{ error: { code, message } }` body. Anything else propagates to fastify's error handler.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from '../../core/ports/index.ts';
import { adminKeyOf } from '../../control/api-keys.ts';
import { ControlError, httpStatus } from '../../control/errors.ts';

export type AdminHandler = (req: FastifyRequest) => Promise<{ status?: number; body: unknown }>;

export function adminRoutes(registry: Pick<Registry, 'findApiKeyByHash'>) {
  return (handler: AdminHandler) => async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      const key = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (!key || !(await adminKeyOf(registry, key))) throw new ControlError('unauthorized', 'Missing or unknown API key. Send `Authorization: Bearer <api key>`.');
      const { status = 200, body } = await handler(req);
      return reply.code(status).send(body);
    } catch (error) {
      if (error instanceof ControlError) return reply.code(httpStatus(error.code)).send(error.toJSON());
      throw error;
    }
  };
}
