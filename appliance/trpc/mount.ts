/**
 * Serves the admin API over HTTP at /api/trpc (queries GET, mutations POST, subscriptions as
 * Server-Sent Events). The token comes from "Authorization: Bearer …", or, for an EventSource that
 * cannot set headers, from the subscription's connection params `{ token }`.
 */
import type { FastifyInstance } from 'fastify';
import { fastifyTRPCPlugin, type CreateFastifyContextOptions } from '@trpc/server/adapters/fastify';
import { adminRouter, type AdminRouter } from './router.ts';
import type { AdminApiDeps, AdminContext } from './context.ts';

export const ADMIN_API_PREFIX = '/api/trpc';

export async function registerAdminApi(app: FastifyInstance, deps: AdminApiDeps): Promise<void> {
  const now = deps.now ?? Date.now;
  await app.register(fastifyTRPCPlugin<AdminRouter>, {
    prefix: ADMIN_API_PREFIX,
    trpcOptions: {
      router: adminRouter,
      createContext({ req, info }: CreateFastifyContextOptions): AdminContext {
        const header = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? null;
        return { deps, token: header ?? info.connectionParams?.token ?? null, now };
      },
      onError({ error, path }) {
        if (error.code === 'INTERNAL_SERVER_ERROR') deps.log?.(`admin API ${path ?? '?'}: ${error.cause?.stack ?? error.message}`);
      },
    },
  });
}
