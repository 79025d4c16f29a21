/**
 * The stats API over HTTP (Plausible Stats API v1 shapes). Thin: every decision is in the service.
 *
 *   GET /api/v1/stats/aggregate          ?site_id&period|from,to&date&timezone&metrics&compare
 *   GET /api/v1/stats/timeseries         ?site_id&period|from,to&date&timezone&metrics&interval
 *   GET /api/v1/stats/breakdown          ?site_id&period|from,to&date&timezone&metrics&property&limit&page
 *   GET /api/v1/stats/realtime/visitors  ?site_id
 *
 * Errors use the shared error body (core/errors.ts). Successful answers carry
 * `X-Almanac-Cache: hit|miss` and `Cache-Control: private, no-store` (the numbers are per key
 * holder; a shared proxy must not keep them).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody, type Rejection } from '../core/errors.ts';
import type { Endpoint } from './params.ts';

/** The part of the service the routes need (a type only, so this module does not import the service). */
export interface QueryHandler {
  handle(endpoint: Endpoint, authorization: string | undefined, params: Record<string, unknown>): Promise<{ json: string; cache: 'hit' | 'miss' } | Rejection>;
}

export const QUERY_ROUTES: Readonly<Record<string, Endpoint>> = {
  '/api/v1/stats/aggregate': 'aggregate',
  '/api/v1/stats/timeseries': 'timeseries',
  '/api/v1/stats/breakdown': 'breakdown',
  '/api/v1/stats/realtime/visitors': 'realtime_visitors',
};

export function addQueryRoutes(app: FastifyInstance, handler: QueryHandler): void {
  for (const [url, endpoint] of Object.entries(QUERY_ROUTES)) {
    app.get(url, async (request: FastifyRequest, reply: FastifyReply) => {
      const outcome = await handler.handle(endpoint, request.headers.authorization, request.query as Record<string, unknown>);
      if ('ok' in outcome) {
        if (outcome.status === 401) reply.header('WWW-Authenticate', 'Bearer');
        return reply.code(outcome.status).send(errorBody(outcome));
      }
      return reply
        .header('X-Almanac-Cache', outcome.cache)
        .header('Cache-Control', 'private, no-store')
        .type('application/json; charset=utf-8')
        .send(outcome.json);
    });
  }
}
