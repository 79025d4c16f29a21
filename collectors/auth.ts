/**
 * Who may send events for a tracking ID. Browsers are recognised by their Origin (which
 * must be one of the tracking ID's allowed origins); servers by the X-Almanac-Key header
 * (the tracking ID's server key). Registry lookups are memoised for a few seconds so the hot
 * path does not hit storage on every request; an admin's pause/revoke therefore takes
 * effect within authMemoMs.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { reject, type Rejection } from '../core/errors.ts';
import type { Registry, Tenant, TrackingIdRecord } from '../core/ports/index.ts';

export interface AuthRequest {
  trackingId: string;
  /** Origin header, when the request has one (browsers' fetch/sendBeacon). */
  origin?: string;
  /** X-Almanac-Key header: a server-side sender. */
  serverKey?: string;
  /** Referer header: only used for the pixel, which browsers fetch without an Origin. */
  referer?: string;
  /** The request is GET /px.gif. */
  pixel?: boolean;
}

export interface Authorized {
  ok: true;
  mode: 'browser' | 'server';
  trackingId: TrackingIdRecord;
  tenant: Tenant;
  /** The request's origin when a browser sent it: echoed in Access-Control-Allow-Origin. */
  allowOrigin?: string;
}

export type AuthResult = Authorized | Rejection;

/** A tracking ID that is active and belongs to an active tenant (whoever sends for it). */
export interface AdmittedTrackingId {
  ok: true;
  trackingId: TrackingIdRecord;
  tenant: Tenant;
}

export interface AuthDeps {
  registry: Pick<Registry, 'getTrackingId' | 'getTenant'>;
  now?: () => number;
}

export interface AuthOptions {
  /** How long a lookup (found or not) is reused, ms. */
  memoMs: number;
  /** Most tracking IDs memoised at once; bounds memory under a flood of made-up IDs. */
  maxEntries?: number;
}

type Lookup = { record: TrackingIdRecord; tenant: Tenant | undefined } | { record: undefined };

export interface Authenticator {
  /** The registry half: is the tracking ID known and active, and its tenant active? Rejects when the registry fails. */
  admit(trackingId: string): Promise<AdmittedTrackingId | Rejection>;
  /** admit, then authorize: the whole check. */
  authenticate(req: AuthRequest): Promise<AuthResult>;
}

export function createAuthenticator(deps: AuthDeps, options: AuthOptions): Authenticator {
  const now = deps.now ?? Date.now;
  const memo = new LRUCache<string, { at: number; lookup: Promise<Lookup> }>({ max: options.maxEntries ?? 10_000 });

  async function load(id: string): Promise<Lookup> {
    const record = await deps.registry.getTrackingId(id);
    if (!record) return { record: undefined };
    return { record, tenant: await deps.registry.getTenant(record.tenantId) };
  }

  function lookup(id: string): Promise<Lookup> {
    const t = now();
    const hit = memo.get(id);
    if (hit && t - hit.at < options.memoMs) return hit.lookup;
    const p = load(id);
    memo.set(id, { at: t, lookup: p });
    p.catch(() => memo.delete(id)); // do not memoise a storage failure
    return p;
  }

  async function admit(trackingId: string): Promise<AdmittedTrackingId | Rejection> {
    const found = await lookup(trackingId);
    if (!found.record) return reject('unknown_tracking_id', `tracking ID "${trackingId}"`);
    const { record, tenant } = found;
    if (record.status !== 'active') return reject('tracking_id_revoked', `tracking ID "${record.id}" is ${record.status}`);
    if (!tenant) return reject('unknown_tracking_id', `tracking ID "${record.id}" belongs to no tenant`);
    if (tenant.status !== 'active') return reject('tenant_suspended');
    return { ok: true, trackingId: record, tenant };
  }

  return {
    admit,
    async authenticate(req) {
      const admitted = await admit(req.trackingId);
      return admitted.ok ? authorize(admitted.trackingId, admitted.tenant, req) : admitted;
    },
  };
}

/** Pure part: given the records, does this request's Origin, key or Referer let it in? */
export function authorize(record: TrackingIdRecord, tenant: Tenant, req: AuthRequest): AuthResult {
  // A key wins over an Origin: a server proxying a browser request may forward both.
  if (req.serverKey !== undefined) {
    return keysEqual(req.serverKey, record.serverKey) ? { ok: true, mode: 'server', trackingId: record, tenant } : reject('bad_server_key');
  }
  if (req.origin !== undefined) {
    return originAllowed(req.origin, record.allowedOrigins)
      ? { ok: true, mode: 'browser', trackingId: record, tenant, allowOrigin: req.origin }
      : reject('origin_not_allowed', `origin ${req.origin} is not allowed for tracking ID "${record.id}"`);
  }
  if (req.pixel && req.referer) {
    const origin = originOf(req.referer);
    return origin && originAllowed(origin, record.allowedOrigins)
      ? { ok: true, mode: 'browser', trackingId: record, tenant }
      : reject('origin_not_allowed', `referer origin ${origin ?? '(unparsable)'} is not allowed for tracking ID "${record.id}"`);
  }
  return reject('missing_origin');
}

/**
 * Exact origin match: scheme, host and port (default ports normalised, host case-folded),
 * so https://shop.example does not admit http://shop.example or https://evil.shop.example.
 * '*' admits any origin, including the opaque "null" of sandboxed frames and file:// pages.
 */
export function originAllowed(origin: string, allowed: readonly string[]): boolean {
  if (allowed.includes('*')) return true;
  const o = originOf(origin);
  if (!o) return false;
  return allowed.some((a) => originOf(a) === o);
}

function originOf(url: string): string | undefined {
  try {
    const o = new URL(url).origin;
    return o === 'null' ? undefined : o;
  } catch {
    return undefined;
  }
}

/**
 * Constant-time comparison. Hashing first makes both sides the same length, so neither the
 * content nor the length of the key leaks through timing. An empty stored key disables
 * server-side sending rather than matching an empty header.
 */
export function keysEqual(given: string, expected: string): boolean {
  if (!expected) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
