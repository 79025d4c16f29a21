/**
 * GET /healthz. Ready means: every role of this node started, and every service those roles
 * cannot work without answers. A service a role can do without (Redis: local rate limits,
 * uncached queries) makes the node "degraded", still 200, so a load balancer keeps it in rotation.
 */
import type { FastifyInstance } from 'fastify';
import type { Role } from '../main/config.ts';
import { REQUIRED_SERVICES, type Storage } from '../main/profiles.ts';

export interface HealthzDeps {
  storage: Pick<Storage, 'ping'>;
  roles: readonly Role[];
  /** Role → ready, shared with the supervisor. */
  ready: Map<string, boolean>;
}

export function registerHealthz(app: FastifyInstance, deps: HealthzDeps): void {
  const needed = new Set(deps.roles.flatMap((role) => REQUIRED_SERVICES[role]));
  app.get('/healthz', async (_req, reply) => {
    const services = await deps.storage.ping().catch(() => ({}) as Record<string, boolean>);
    const roles = Object.fromEntries(deps.ready);
    const down = Object.entries(services).filter(([, up]) => !up).map(([name]) => name);
    const unavailable = down.filter((name) => needed.has(name));
    const started = Object.values(roles).every(Boolean);
    const status = !started ? 'starting' : unavailable.length > 0 ? 'unavailable' : down.length > 0 ? 'degraded' : 'ok';
    return reply.code(status === 'ok' || status === 'degraded' ? 200 : 503).send({ status, roles, services, ...(down.length ? { down } : {}) });
  });
}
