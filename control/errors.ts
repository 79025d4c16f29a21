/**
 * The one error type of the control path (tenants, tracking IDs, keys, embed tokens, replays,
 * users, sessions, deletion, desired scale): a closed set of stable codes, each mapped here, once,
 * to the HTTP status of the REST admin routes, the tRPC code of the admin API and the exit code
 * of the CLI. The front doors never choose a status themselves: they call `httpStatus`,
 * `trpcCode` or `exitCode`.
 *
 * Why a thrown ControlError and not a returned `Rejection` as in core/errors.ts: the data path
 * returns rejections as values because a rejected event is an everyday outcome of a hot loop,
 * and its callers branch on it. A control operation is a short sequence of registry reads and
 * writes that stops at its first refusal, and no caller branches on the refusal: every front
 * door turns it into its answer at one place (the REST guard, the tRPC error formatter, the CLI's
 * main). So the refusal is thrown as the one typed ControlError; its body has the same shape as
 * core's `errorBody`, and anything else thrown stays what core/errors.ts says it is: a bug (500,
 * INTERNAL_SERVER_ERROR, a stack trace).
 */
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server';

/** Exit codes of the CLI: 2 the command line is wrong (fix the flags), 1 the appliance's state refuses it. */
export const EXIT = { usage: 2, refused: 1 } as const;

interface Mapping {
  readonly status: number;
  readonly trpc: TRPC_ERROR_CODE_KEY;
  readonly exit: (typeof EXIT)[keyof typeof EXIT];
}

const input = { status: 400, trpc: 'BAD_REQUEST', exit: EXIT.usage } as const;
const unknown = { status: 404, trpc: 'NOT_FOUND', exit: EXIT.refused } as const;
const conflict = { status: 409, trpc: 'CONFLICT', exit: EXIT.refused } as const;
const signIn = { status: 401, trpc: 'UNAUTHORIZED', exit: EXIT.usage } as const;
const forbidden = { status: 403, trpc: 'FORBIDDEN', exit: EXIT.usage } as const;

export const CONTROL_ERRORS = {
  // The request itself is wrong.
  invalid_request: input,
  invalid_range: input,
  range_too_long: input,
  beyond_retention: input,
  invalid_scale: input,
  // Who is calling.
  unauthorized: signIn,
  not_signed_in: signIn,
  bad_credentials: signIn,
  session_expired: signIn,
  tenant_key_not_allowed: forbidden,
  forbidden_role: forbidden,
  // What it names does not exist.
  not_found: unknown,
  unknown_tenant: unknown,
  unknown_tracking_id: unknown,
  // The current state refuses it.
  conflict,
  not_cancellable: conflict,
  last_owner: conflict,
  outside_log_retention: conflict,
  // This appliance's storage cannot do it.
  unsupported: { status: 501, trpc: 'NOT_IMPLEMENTED', exit: EXIT.refused },
} as const satisfies Record<string, Mapping>;

export type ControlErrorCode = keyof typeof CONTROL_ERRORS;
export const CONTROL_ERROR_CODES = Object.keys(CONTROL_ERRORS) as ControlErrorCode[];

/** An expected refusal of a control operation: a stable code and a message that says what to do. */
export class ControlError extends Error {
  override name = 'ControlError';
  constructor(readonly code: ControlErrorCode, message: string) {
    super(message);
  }

  /** The JSON body of a REST error answer: the same shape as core's `errorBody`. */
  toJSON(): { error: { code: ControlErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

export const httpStatus = (code: ControlErrorCode): number => CONTROL_ERRORS[code].status;
export const trpcCode = (code: ControlErrorCode): TRPC_ERROR_CODE_KEY => CONTROL_ERRORS[code].trpc;
export const exitCode = (code: ControlErrorCode): number => CONTROL_ERRORS[code].exit;

export function isControlError(error: unknown): error is ControlError {
  return error instanceof ControlError;
}
