/**
 * `almanac admin-users list | create | set-role | disable | enable | reset-password`: admin users
 * from the command line (the first owner, or a locked-out one), on the registry the appliance uses.
 * A password is generated and printed once unless ALMANAC_ADMIN_PASSWORD is set (so it does not
 * land in the shell history).
 */
import { TRPCError } from '@trpc/server';
import type { AdminRole } from '../../core/ports/index.ts';
import type { AlmanacConfig } from '../config.ts';
import { openRegistryOnly } from '../profiles.ts';
import { UsageError } from '../tenancy.ts';
import { publicUser } from './auth.ts';
import { generatePassword, hashPassword } from './passwords.ts';
import { createAdminUser } from './users.ts';

export const ADMIN_USERS_HELP = `  almanac admin-users list
  almanac admin-users create --username alice [--role owner|admin|viewer]   (password: $ALMANAC_ADMIN_PASSWORD or generated)
  almanac admin-users set-role <username> --role admin | disable <username> | enable <username> | reset-password <username>
`;

const ROLES: readonly AdminRole[] = ['owner', 'admin', 'viewer'];

export async function adminUsersCommand(
  config: Readonly<AlmanacConfig>,
  sub: string | undefined,
  args: string[],
  flags: Record<string, string | undefined>,
  env: Record<string, string | undefined>,
  out: (text: string) => void = (t) => process.stdout.write(t),
): Promise<number> {
  const registry = await openRegistryOnly(config);
  const print = (value: unknown) => out(JSON.stringify(value, null, 2) + '\n');
  try {
    const admin = registry;
    const role = (): AdminRole => {
      const r = (flags.ALMANAC_ROLE ?? 'admin') as AdminRole;
      if (!ROLES.includes(r)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}, got "${r}"`);
      return r;
    };
    const byName = async () => {
      const name = args[0];
      if (!name) throw new UsageError('Missing <username>. See: almanac help');
      const user = await admin.findAdminUserByUsername(name);
      if (!user) throw new UsageError(`No admin user "${name}". List them with: almanac admin-users list`);
      return user;
    };
    switch (sub) {
      case 'list':
        print((await admin.listAdminUsers()).map(publicUser));
        return 0;
      case 'create': {
        const password = env.ALMANAC_ADMIN_PASSWORD || generatePassword();
        const user = await createAdminUser(registry, { username: flags.ALMANAC_USERNAME ?? '', role: role(), password });
        print({ ...publicUser(user), ...(env.ALMANAC_ADMIN_PASSWORD ? {} : { password, note: 'The password is shown once; store it now.' }) });
        return 0;
      }
      case 'set-role':
        print(publicUser(await admin.updateAdminUser((await byName()).id, { role: role() })));
        return 0;
      case 'disable':
      case 'enable': {
        const user = await admin.updateAdminUser((await byName()).id, { disabled: sub === 'disable' });
        if (sub === 'disable') await admin.deleteAdminSessionsOf(user.id);
        print(publicUser(user));
        return 0;
      }
      case 'reset-password': {
        const user = await byName();
        const password = env.ALMANAC_ADMIN_PASSWORD || generatePassword();
        await admin.updateAdminUser(user.id, { passwordHash: await hashPassword(password) });
        await admin.deleteAdminSessionsOf(user.id);
        print({ username: user.username, ...(env.ALMANAC_ADMIN_PASSWORD ? {} : { password, note: 'The password is shown once; store it now.' }) });
        return 0;
      }
      default:
        throw new UsageError(`Unknown command "admin-users ${sub ?? ''}".\n\n${ADMIN_USERS_HELP}`);
    }
  } catch (error) {
    if (error instanceof TRPCError) throw new UsageError(error.message);
    throw error;
  } finally {
    await registry.close();
  }
}
