/**
 * Turns whatever a call to the admin API threw into a sentence for the admin: the API's stable
 * `appCode` (error.data.appCode) picks a headline, the server's message says what to do.
 */

const HEADLINES: Record<string, string> = {
  not_signed_in: 'You are not signed in.',
  bad_credentials: 'Wrong username or password.',
  session_expired: 'Your session expired.',
  tenant_key_not_allowed: 'That key is a tenant key.',
  forbidden_role: 'Your role does not allow this.',
  not_found: 'Not found.',
  conflict: 'That conflicts with the current state.',
  invalid_request: 'Some input is not valid.',
  invalid_scale: 'That scale is not possible here.',
  unsupported: 'Not supported by this appliance.',
  not_implemented: 'Not available yet.',
  last_owner: 'The last owner must stay.',
  internal: 'The appliance had an internal error.',
  network: 'Cannot reach the appliance.',
};

export interface ReadableError {
  /** The API's code, or `network` / `unknown`. */
  code: string;
  headline: string;
  /** What the server said (it tells what to do), or a hint of ours. */
  detail: string;
  /** True when signing in again is the way out. */
  needsSignIn: boolean;
}

interface ErrorLike {
  message?: unknown;
  data?: { appCode?: unknown; code?: unknown; zodError?: unknown } | null;
  cause?: unknown;
}

export function readableError(error: unknown): ReadableError {
  const e = (error ?? {}) as ErrorLike;
  const appCode = typeof e.data?.appCode === 'string' ? e.data.appCode : undefined;
  const message = typeof e.message === 'string' ? e.message : String(error);
  if (!appCode) {
    // No answer from the server at all (fetch failed, connection refused, CORS, offline).
    if (/fetch|network|Failed to|ECONNREFUSED|Load failed/i.test(message)) {
      return { code: 'network', headline: HEADLINES.network, detail: 'Check the appliance address and that it is running, then retry.', needsSignIn: false };
    }
    return { code: 'unknown', headline: 'Something went wrong.', detail: message, needsSignIn: false };
  }
  return {
    code: appCode,
    headline: HEADLINES[appCode] ?? `Error: ${appCode}.`,
    detail: validationDetail(message) ?? message,
    needsSignIn: appCode === 'not_signed_in' || appCode === 'session_expired',
  };
}

/** zod's messages come as a JSON array of issues: "name: at least 1 character; ...". */
function validationDetail(message: string): string | undefined {
  if (!message.startsWith('[')) return undefined;
  try {
    const issues = JSON.parse(message) as { path?: (string | number)[]; message?: string }[];
    if (!Array.isArray(issues) || issues.length === 0) return undefined;
    return issues.map((i) => `${(i.path ?? []).join('.') || 'input'}: ${i.message ?? 'invalid'}`).join('; ');
  } catch {
    return undefined;
  }
}
