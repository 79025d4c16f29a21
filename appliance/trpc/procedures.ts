/**
 * The tRPC instance of the admin API and its procedure kinds by role:
 * viewer = queries only; admin = every mutation except user management; owner = everything.
 * A ControlError thrown by a control operation becomes a TRPCError with its mapped code
 * (control/errors.ts), and its stable code reaches the client as `error.data.appCode`, which the
 * console shows. zod input errors are `invalid_request`, as at the other doors.
 */
import { initTRPC, TRPCError } from '@trpc/server';
import type { AdminRole } from '../../core/ports/index.ts';
import { ControlError, trpcCode } from '../../control/errors.ts';
import { resolveIdentity, type Identity } from '../../control/sessions.ts';
import type { AdminContext } from './context.ts';

const t = initTRPC.context<AdminContext>().create({
  errorFormatter({ shape, error }) {
    const appCode = error.cause instanceof ControlError ? error.cause.code
      : error.code === 'BAD_REQUEST' ? 'invalid_request'
      : error.code === 'INTERNAL_SERVER_ERROR' ? 'internal' : error.code.toLowerCase();
    return { ...shape, data: { ...shape.data, appCode, stack: undefined } };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** The one place a ControlError becomes a TRPCError. */
export function toTrpcError(error: ControlError): TRPCError {
  return new TRPCError({ code: trpcCode(error.code), message: error.message, cause: error });
}

const controlErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof ControlError) throw toTrpcError(result.error.cause);
  return result;
});

/** Subscriptions fail while iterating, outside the middleware: their generators go through this. */
export async function* mapControlErrors<T>(events: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* events;
  } catch (error) {
    throw error instanceof ControlError ? toTrpcError(error) : error;
  }
}

const base = t.procedure.use(controlErrors);
export const publicProcedure = base;

const RANK: Record<AdminRole, number> = { viewer: 0, admin: 1, owner: 2 };

function requireRole(min: AdminRole, viewerMayMutate = false) {
  return t.middleware(async ({ ctx, next, type }) => {
    const identity: Identity = await resolveIdentity(ctx.deps.registry, ctx.token, ctx.now());
    if (!viewerMayMutate && type === 'mutation' && identity.role === 'viewer') {
      throw new ControlError('forbidden_role', 'Viewers can look but not change anything: ask an owner for the admin role.');
    }
    if (RANK[identity.role] < RANK[min]) {
      throw new ControlError('forbidden_role', `This needs the ${min} role; you are ${identity.role}. Ask an owner.`);
    }
    return next({ ctx: { ...ctx, identity } });
  });
}

/** Signed in, any role, mutations allowed: only for the caller's own session (sign-out). */
export const signedInProcedure = base.use(requireRole('viewer', true));
/** Any signed-in admin user or admin API key; mutations still need admin (see requireRole). */
export const viewerProcedure = base.use(requireRole('viewer'));
export const adminProcedure = base.use(requireRole('admin'));
export const ownerProcedure = base.use(requireRole('owner'));
