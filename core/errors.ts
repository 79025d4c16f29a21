/**
 * The one registry of expected failures. Every rejection a caller can see has a stable
 * string code, an HTTP status and a message that says what to do about it.
 * Expected outcomes are returned as values (`Rejection`); `throw` is kept for bugs.
 */
export const ERRORS = {
  // Input shape
  malformed_json: { status: 400, message: 'The body is not valid JSON. Send one JSON object (or an array for /api/batch) encoded as UTF-8.' },
  body_too_large: { status: 413, message: 'The body is larger than the limit. Send fewer events per request (see maxBodyBytes) or use /api/batch with at most the batch limit.' },
  unsupported_media_type: { status: 415, message: 'Send the body as application/json or text/plain (navigator.sendBeacon).' },
  invalid_event: { status: 400, message: 'The event does not match the event schema.' },
  batch_too_large: { status: 413, message: 'Too many events in one batch. Split the batch.' },
  batch_empty: { status: 400, message: 'The batch has no events. Send an array of 1 or more events.' },
  timestamp_in_future: { status: 400, message: 'The event timestamp is too far in the future. Check the device clock, or omit `ts` to use the time of receipt.' },
  timestamp_too_old: { status: 400, message: 'The event timestamp is older than the collector accepts. Send queued events sooner, or raise ALMANAC_MAX_EVENT_AGE_HOURS.' },
  // Auth
  unknown_tracking_id: { status: 401, message: 'The tracking ID is unknown. Copy the tracking ID from the snippet the admin gave you.' },
  tracking_id_revoked: { status: 403, message: 'The tracking ID was revoked or paused by an admin. Ask your Almanac admin for a new one.' },
  tenant_suspended: { status: 403, message: 'The tenant of this tracking ID is suspended. Ask your Almanac admin.' },
  origin_not_allowed: { status: 403, message: 'The page origin is not in the allowed origins of this tracking ID. Add it in the admin console, or send server-side with the server key.' },
  bad_server_key: { status: 401, message: 'The server key does not match this tracking ID. Use the server key shown for the tracking ID, in the X-Almanac-Key header.' },
  missing_origin: { status: 401, message: 'A browser request must carry an Origin; a server-side request must carry the X-Almanac-Key header with the tracking ID server key.' },
  unauthorized: { status: 401, message: 'Missing or unknown API key. Send `Authorization: Bearer <api key>`.' },
  forbidden: { status: 403, message: 'This API key may not read that tracking ID.' },
  tenant_key_not_allowed: { status: 403, message: "A tenant API key reads its own tenant's stats only; the admin routes need an admin API key (`almanac api-keys create --admin`)." },
  // Load
  rate_limited: { status: 429, message: 'Too many events for this tracking ID. Retry after the time in the Retry-After header.' },
  unavailable: { status: 503, message: 'The event log is unavailable; the event was not accepted. Retry after the time in the Retry-After header.' },
  // Query
  invalid_query: { status: 400, message: 'The query parameters are invalid.' },
  not_found: { status: 404, message: 'No such resource.' },
  method_not_allowed: { status: 405, message: 'This path does not take that method. Use one of the methods in the Allow header.' },
  // Dashboard embed tokens (query/embed)
  embed_token_malformed: { status: 401, message: 'This is not a dashboard embed token. Copy the whole token your Almanac admin issued.' },
  embed_token_invalid: { status: 401, message: 'The embed token was altered or signed with another secret. Ask your Almanac admin for a new token.' },
  embed_token_expired: { status: 401, message: 'The embed token has expired. Ask your Almanac admin for a new token.' },
  embed_token_revoked: { status: 401, message: "The embed token was revoked (the tenant's embed secret was rotated). Ask your Almanac admin for a new token." },
  embed_filter_unsupported: { status: 403, message: 'This embed token is limited to a page filter, which this query cannot apply.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** An expected failure, as a value. `detail` says which field or limit, when that helps. */
export interface Rejection {
  readonly ok: false;
  readonly code: ErrorCode;
  readonly status: number;
  readonly message: string;
  readonly detail?: string;
}

export function reject(code: ErrorCode, detail?: string): Rejection {
  const { status, message } = ERRORS[code];
  return detail === undefined ? { ok: false, code, status, message } : { ok: false, code, status, message, detail };
}

/** The JSON body of an error response: the same shape everywhere in the public API. */
export function errorBody(r: Rejection): { error: { code: ErrorCode; message: string; detail?: string } } {
  return { error: { code: r.code, message: r.message, ...(r.detail ? { detail: r.detail } : {}) } };
}

/** A configuration error names the setting and what a valid value looks like. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Almanac cannot start: invalid configuration\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}
