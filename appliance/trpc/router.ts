/**
 * The admin API router (tRPC v11), mounted at /api/trpc. `AdminRouter` is the type the console
 * imports: `createTRPCClient<AdminRouter>(…)`.
 */
import { createCallerFactory, router } from './procedures.ts';
import { authRouter } from './auth.ts';
import { tenantsRouter } from './tenants.ts';
import { trackingIdsRouter } from './tracking-ids.ts';
import { replaysRouter } from './replays.ts';
import { scalingRouter } from './scaling.ts';
import { healthRouter } from './health.ts';
import { auditRouter } from './audit.ts';
import { embedRouter } from './embed.ts';

export const adminRouter = router({
  auth: authRouter,
  tenants: tenantsRouter,
  trackingIds: trackingIdsRouter,
  replays: replaysRouter,
  scaling: scalingRouter,
  health: healthRouter,
  audit: auditRouter,
  embed: embedRouter,
});

export type AdminRouter = typeof adminRouter;

/** Direct calls without HTTP (tests, CLI): `createAdminCaller({ deps, token, now })`. */
export const createAdminCaller = createCallerFactory(adminRouter);
