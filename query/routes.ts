/** Entry point for an app that only needs the routes: creates the service and mounts it. */
import type { FastifyInstance } from 'fastify';
import { addQueryRoutes } from './http.ts';
import { createQueryService, type QueryConfig, type QueryDeps, type QueryService } from './service.ts';

/**
 * Registers the stats routes (see http.ts) and returns the service behind them, to share its
 * cache with other callers or to inspect it in tests.
 */
export function registerQueryRoutes(app: FastifyInstance, deps: QueryDeps, config: QueryConfig = {}): QueryService {
  const service = createQueryService(deps, config);
  addQueryRoutes(app, service);
  return service;
}
