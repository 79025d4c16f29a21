/**
 * What an embed token may ask the stats API: its own tracking ID only, always with its fixed
 * filter. Pure: raw query parameters in, scoped parameters (or a rejection) out.
 */
import { reject, type Rejection } from '../../core/errors.ts';
import type { Endpoint } from '../params.ts';
import type { EmbedClaims } from './token.ts';

export function scopeEmbedParams(endpoint: Endpoint, params: Record<string, unknown>, claims: EmbedClaims): { params: Record<string, unknown> } | Rejection {
  const site = params.site_id;
  if (site !== undefined && site !== claims.tid) return reject('forbidden', 'site_id: an embed token reads only the tracking ID it was issued for');
  const scoped: Record<string, unknown> = { ...params, site_id: claims.tid };
  const prefix = claims.f?.pagePrefix;
  if (!prefix) return { params: scoped };
  if (endpoint === 'realtime_visitors') {
    return reject('embed_filter_unsupported', 'realtime visitors are counted per site only, not per page');
  }
  const asked = params.page_prefix;
  // A narrower prefix inside the token's is fine; anything else would lift the filter.
  if (asked !== undefined && !(typeof asked === 'string' && asked.startsWith(prefix))) {
    return reject('forbidden', `page_prefix: this embed token is limited to pages under ${prefix}`);
  }
  scoped.page_prefix = asked ?? prefix;
  return { params: scoped };
}
