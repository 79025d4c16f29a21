/**
 * The tRPC instance of the admin API and its procedure kinds by role:
 * viewer = queries only; admin = every mutation except user management; owner = everything.
 * Errors carry a stable `appCode` in `error.data` (see errors.ts) that the console shows.
 */
import { initTRPC } from '@trpc/server';
import type { AdminRole } from '../../core/ports/index.ts';
import type { AdminContext, Identity } from './context.ts';
import { AdminApiError, adminError } from './errors.ts';
import { resolveIdentity } from './sessions.ts';

const t = initTRPC.context<AdminContext>().create({
  errorFormatter({ shape, error }) {
    const appCode = error.cause instanceof AdminApiError ? error.cause.code
      : error.code === 'BAD_REQUEST' ? 'invalid_request'
      : error.code === 'INTERNAL_SERVER_ERROR' ? 'internal' : error.code.toLowerCase();
    return { ...shape, data: { ...shape.data, appCode, stack: undefined } };
  },
});

export const router = t.router;
export const publicProcedure = t.procedure;
export const createCallerFactory = t.createCallerFactory;

const RANK: Record<AdminRole, number> = { viewer: 0, admin: 1, owner: 2 };

function requireRole(min: AdminRole, viewerMayMutate = false) {
  return t.middleware(async ({ ctx, next, type }) => {
    const identity: Identity = await resolveIdentity(ctx);
    if (!viewerMayMutate && type === 'mutation' && identity.role === 'viewer') {
      throw adminError('forbidden_role', 'Viewers can look but not change anything: ask an owner for the admin role.');
    }
    if (RANK[identity.role] < RANK[min]) {
      throw adminError('forbidden_role', `This needs the ${min} role; you are ${identity.role}. Ask an owner.`);
    }
    return next({ ctx: { ...ctx, identity } });
  });
}

/** Any signed-in admin user or admin API key; mutations still need admin (see requireRole). */
/** Signed in, any role, mutations allowed: only for the caller's own session (sign-out). */
export const signedInProcedure = t.procedure.use(requireRole('viewer', true));
export const viewerProcedure = t.procedure.use(requireRole('viewer'));
export const adminProcedure = t.procedure.use(requireRole('admin'));
export const ownerProcedure = t.procedure.use(requireRole('owner'));
