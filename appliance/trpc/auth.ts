/** auth: sign in and out, who am I, and admin users (owner only). Thin over control/sessions.ts and control/users.ts. */
import { z } from 'zod';
import { signIn } from '../../control/sessions.ts';
import { generatePassword } from '../../control/passwords.ts';
import { recordAudit } from '../../control/audit.ts';
import { createAdminUser, publicUser, resetUserPassword, setUserDisabled, setUserRole } from '../../control/users.ts';
import { ownerProcedure, publicProcedure, router, signedInProcedure, viewerProcedure } from './procedures.ts';
import { id, password, role, username } from './inputs.ts';

export const authRouter = router({
  signIn: publicProcedure
    .input(z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(1024) }))
    .mutation(async ({ ctx, input }) => {
      const { token, expiresAt, user } = await signIn(ctx.deps.registry, input.username, input.password, ctx.now());
      await recordAudit({ ...ctx, identity: { actor: `user:${user.id}`, name: user.username } }, 'auth.signIn', `user:${user.id}`, null, null);
      return { token, expiresAt, user: publicUser(user) };
    }),

  signOut: signedInProcedure.mutation(async ({ ctx }) => {
    if (ctx.identity.sessionHash) await ctx.deps.registry.deleteAdminSession(ctx.identity.sessionHash);
    await recordAudit(ctx, 'auth.signOut', ctx.identity.actor, null, null);
    return { signedOut: ctx.identity.sessionHash !== null };
  }),

  me: viewerProcedure.query(({ ctx }) => ({
    actor: ctx.identity.actor,
    name: ctx.identity.name,
    role: ctx.identity.role,
    kind: ctx.identity.kind,
    userId: ctx.identity.userId,
  })),

  users: router({
    list: ownerProcedure.query(async ({ ctx }) => (await ctx.deps.registry.listAdminUsers()).map(publicUser)),

    /** Without a password, one is generated and returned once. */
    create: ownerProcedure
      .input(z.object({ username, role, password: password.optional() }))
      .mutation(async ({ ctx, input }) => {
        const chosen = input.password ?? generatePassword();
        const user = await createAdminUser(ctx.deps.registry, { username: input.username, role: input.role, password: chosen });
        await recordAudit(ctx, 'auth.users.create', `user:${user.id}`, null, publicUser(user));
        return { user: publicUser(user), ...(input.password ? {} : { password: chosen }) };
      }),

    setRole: ownerProcedure
      .input(z.object({ id, role }))
      .mutation(async ({ ctx, input }) => {
        const { before, after } = await setUserRole(ctx.deps.registry, input.id, input.role);
        await recordAudit(ctx, 'auth.users.setRole', `user:${after.id}`, publicUser(before), publicUser(after));
        return publicUser(after);
      }),

    setDisabled: ownerProcedure
      .input(z.object({ id, disabled: z.boolean() }))
      .mutation(async ({ ctx, input }) => {
        const { before, after } = await setUserDisabled(ctx.deps.registry, input.id, input.disabled);
        await recordAudit(ctx, input.disabled ? 'auth.users.disable' : 'auth.users.enable', `user:${after.id}`, publicUser(before), publicUser(after));
        return publicUser(after);
      }),

    /** Sets a new password (generated and returned once when none is given) and ends the user's sessions. */
    resetPassword: ownerProcedure
      .input(z.object({ id, password: password.optional() }))
      .mutation(async ({ ctx, input }) => {
        const chosen = input.password ?? generatePassword();
        const user = await resetUserPassword(ctx.deps.registry, input.id, chosen);
        await recordAudit(ctx, 'auth.users.resetPassword', `user:${user.id}`, null, null);
        return input.password ? {} : { password: chosen };
      }),
  }),
});
