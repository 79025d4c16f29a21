/** auth: sign in and out, who am I, and admin users (owner only). */
import { z } from 'zod';
import type { AdminUser, Registry } from '../../core/ports/index.ts';
import { ownerProcedure, publicProcedure, router, signedInProcedure, viewerProcedure } from './trpc.ts';
import { signIn } from './sessions.ts';
import { generatePassword, hashPassword } from './passwords.ts';
import { recordAudit } from './audit-log.ts';
import { adminError } from './errors.ts';
import { id, password, role, username } from './inputs.ts';
import { createAdminUser } from './users.ts';

/** A user as the API shows it: never the password hash. */
export function publicUser(u: AdminUser) {
  return { id: u.id, username: u.username, role: u.role, disabled: u.disabled, createdAt: u.createdAt, updatedAt: u.updatedAt };
}

export const authRouter = router({
  signIn: publicProcedure
    .input(z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(1024) }))
    .mutation(async ({ ctx, input }) => {
      const { token, expiresAt, user } = await signIn(ctx.deps.registry, input.username, input.password, ctx.now());
      await recordAudit({ ...ctx, identity: { actor: `user:${user.id}`, name: user.username, role: user.role, kind: 'user', userId: user.id, sessionHash: null } }, 'auth.signIn', `user:${user.id}`, null, null);
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
        const admin = ctx.deps.registry;
        const before = await requireUser(ctx.deps.registry, input.id);
        if (before.role === 'owner' && input.role !== 'owner') await requireAnotherOwner(ctx.deps.registry, before.id);
        const after = await admin.updateAdminUser(input.id, { role: input.role });
        await recordAudit(ctx, 'auth.users.setRole', `user:${after.id}`, publicUser(before), publicUser(after));
        return publicUser(after);
      }),

    setDisabled: ownerProcedure
      .input(z.object({ id, disabled: z.boolean() }))
      .mutation(async ({ ctx, input }) => {
        const admin = ctx.deps.registry;
        const before = await requireUser(ctx.deps.registry, input.id);
        if (input.disabled && before.role === 'owner') await requireAnotherOwner(ctx.deps.registry, before.id);
        const after = await admin.updateAdminUser(input.id, { disabled: input.disabled });
        if (input.disabled) await admin.deleteAdminSessionsOf(after.id);
        await recordAudit(ctx, input.disabled ? 'auth.users.disable' : 'auth.users.enable', `user:${after.id}`, publicUser(before), publicUser(after));
        return publicUser(after);
      }),

    /** Sets a new password (generated and returned once when none is given) and ends the user's sessions. */
    resetPassword: ownerProcedure
      .input(z.object({ id, password: password.optional() }))
      .mutation(async ({ ctx, input }) => {
        const admin = ctx.deps.registry;
        const before = await requireUser(ctx.deps.registry, input.id);
        const chosen = input.password ?? generatePassword();
        await admin.updateAdminUser(input.id, { passwordHash: await hashPassword(chosen) });
        await admin.deleteAdminSessionsOf(input.id);
        await recordAudit(ctx, 'auth.users.resetPassword', `user:${before.id}`, null, null);
        return input.password ? {} : { password: chosen };
      }),
  }),
});

async function requireUser(registry: Registry, userId: string): Promise<AdminUser> {
  const user = await registry.getAdminUser(userId);
  if (!user) throw adminError('not_found', `No admin user "${userId}". List them with auth.users.list.`);
  return user;
}

async function requireAnotherOwner(registry: Registry, userId: string): Promise<void> {
  const owners = (await registry.listAdminUsers()).filter((u) => u.role === 'owner' && !u.disabled && u.id !== userId);
  if (owners.length === 0) throw adminError('last_owner', 'This is the last active owner: make another user owner first.');
}

