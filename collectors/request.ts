/**
 * Reading a collector request: the body as JSON (our media types, our error codes), and what the
 * headers say about the sender (RequestFacts: origin, server key, client IP, user agent).
 */
import { isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';
import { reject, type Rejection } from '../core/errors.ts';
import type { CollectorConfig } from './config.ts';
import type { RequestFacts } from './ingest/types.ts';

const JSON_TYPES = new Set(['application/json', 'text/plain']);

export type Parsed = { ok: true; value: unknown } | Rejection;

export function parseBody(req: FastifyRequest): Parsed {
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

export function eventsOf(v: unknown): unknown[] | undefined {
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

export function acceptsGzip(accept: string | string[] | undefined): boolean {
  const v = Array.isArray(accept) ? accept.join(',') : (accept ?? '');
  return /\bgzip\b(?!\s*;\s*q\s*=\s*0(?:\.0*)?\b)/i.test(v);
}
