/** How the collector's routes answer: rejections in the one error body, CORS, Retry-After. */
import type { FastifyReply } from 'fastify';
import { errorBody, type Rejection } from '../core/errors.ts';
import type { IngestCounters } from './counters.ts';
import type { Dropped, IngestOutcome } from './ingest/types.ts';

/** The body with its "dropped" member, present only when something was dropped. */
export function withDropped<T extends object>(body: T, dropped: Dropped): T & { dropped?: Dropped } {
  return Object.keys(dropped).length > 0 ? { ...body, dropped } : body;
}

export function setAllowOrigin(reply: FastifyReply, origin: string | undefined): void {
  if (origin) reply.header('access-control-allow-origin', origin);
}

export function sendRejection(reply: FastifyReply, r: Rejection): FastifyReply {
  return reply.code(r.status).send(errorBody(r));
}

export function countAndSend(reply: FastifyReply, counters: IngestCounters, r: Rejection): FastifyReply {
  counters.add(null, `rejected:${r.code}`);
  return sendRejection(reply, r);
}

export function sendOutcomeRejection(reply: FastifyReply, out: Extract<IngestOutcome, { ok: false }>): FastifyReply {
  setAllowOrigin(reply, out.allowOrigin);
  if (out.retryAfterSec !== undefined) reply.header('retry-after', String(out.retryAfterSec));
  return sendRejection(reply, out.rejection);
}
