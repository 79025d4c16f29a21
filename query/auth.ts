/**
 * API-key authentication and per-site authorisation for the stats API.
 *
 * Tenant isolation: a 'tenant' key asking for a tracking ID that belongs to another tenant gets
 * 403 `forbidden`, and so does a tenant key asking for a tracking ID that does not exist at all.
 * The two answers are identical, so a tenant cannot probe which tracking IDs exist elsewhere.
 * Only an 'admin' key (which may read every site) can see 404 `not_found`.
 *
 * Lookups are memoised for a few seconds (positive and negative alike): a dashboard fires several
 * requests per page view and each would otherwise cost two registry reads. The price is that a
 * new key, or a tracking ID moved between tenants, takes up to `memoMs` to be seen.
 */
import { hashApiKey } from '../core/api-key.ts';
import { LRUCache } from 'lru-cache';
import { reject, type Rejection } from '../core/errors.ts';
import type { ApiKeyRecord, Registry, TrackingIdRecord } from '../core/ports/index.ts';

export interface AuthDeps {
  registry: Registry;
}

export interface Auth {
  /** `Authorization` header -> the key's record, or 401 `unauthorized`. */
  authenticate(authorization: string | undefined): Promise<ApiKeyRecord | Rejection>;
  /** May this key read this tracking ID? The record, or 403 `forbidden` / 404 `not_found`. */
  authorize(key: ApiKeyRecord, trackingId: string): Promise<TrackingIdRecord | Rejection>;
}

export function createAuth(deps: AuthDeps, config: { memoMs: number }): Auth {
  const keys = memoize((hash: string) => deps.registry.findApiKeyByHash(hash), config.memoMs);
  const sites = memoize((id: string) => deps.registry.getTrackingId(id), config.memoMs);

  return {
    async authenticate(authorization) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
      if (!m) return reject('unauthorized', 'send the header `Authorization: Bearer <api key>`');
      const key = await keys(hashApiKey(m[1]));
      return key ?? reject('unauthorized', 'the API key is unknown');
    },

    async authorize(key, trackingId) {
      const site = await sites(trackingId);
      if (key.scope === 'admin') return site ?? reject('not_found', `site_id: no tracking ID '${trackingId}'`);
      if (!site || site.tenantId !== key.tenantId) return reject('forbidden', `site_id: this key may read only tracking IDs of its own tenant`);
      return site;
    },
  };
}

/**
 * Memoises an async lookup for `ttlMs`, sharing one call among concurrent askers. Failures are not
 * kept: the next ask tries again.
 */
function memoize<T>(lookup: (k: string) => Promise<T>, ttlMs: number): (k: string) => Promise<T> {
  if (ttlMs <= 0) return lookup;
  const memo = new LRUCache<string, Promise<T>>({ max: 10_000, ttl: ttlMs });
  return (k) => {
    let p = memo.get(k);
    if (!p) {
      p = lookup(k);
      memo.set(k, p);
      p.catch(() => memo.delete(k));
    }
    return p;
  };
}
