/**
 * The admin API's expected failures: one TRPCError per case, with a stable `appCode` (sent to
 * the client as `error.data.appCode`) and a message that tells the admin what to do.
 */
import { TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server';

export const ADMIN_ERRORS = {
  not_signed_in: 'UNAUTHORIZED',
  bad_credentials: 'UNAUTHORIZED',
  session_expired: 'UNAUTHORIZED',
  tenant_key_not_allowed: 'FORBIDDEN',
  forbidden_role: 'FORBIDDEN',
  not_found: 'NOT_FOUND',
  conflict: 'CONFLICT',
  invalid_request: 'BAD_REQUEST',
  unsupported: 'PRECONDITION_FAILED',
  last_owner: 'CONFLICT',
} as const satisfies Record<string, TRPC_ERROR_CODE_KEY>;

export type AdminErrorCode = keyof typeof ADMIN_ERRORS;

/** Carried as the TRPCError's cause, so the error formatter can expose its code. */
export class AdminApiError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'AdminApiError';
  }
}

export function adminError(code: AdminErrorCode, message: string, trpcCode: TRPC_ERROR_CODE_KEY = ADMIN_ERRORS[code]): TRPCError {
  return new TRPCError({ code: trpcCode, message, cause: new AdminApiError(code, message) });
}
