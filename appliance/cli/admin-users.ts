/**
 * `almanac admin-users list | create | set-role | disable | enable | reset-password`: admin users
 * from the command line (the first owner, or a locked-out one), on the registry the appliance uses.
 * A password is generated and printed once unless ALMANAC_ADMIN_PASSWORD is set (so it does not
 * land in the shell history). Thin over control/users.ts, with the same rules as the admin API.
 */
import type { AdminRole } from '../../core/ports/index.ts';
import type { AlmanacConfig } from '../main/config.ts';
import { openRegistryOnly } from '../main/profiles.ts';
import { ControlError } from '../../control/errors.ts';
import { generatePassword } from '../../control/passwords.ts';
import { createAdminUser, publicUser, requireUserByName, resetUserPassword, setUserDisabled, setUserRole } from '../../control/users.ts';

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
  const shownOnce = (password: string) => (env.ALMANAC_ADMIN_PASSWORD ? {} : { password, note: 'The password is shown once; store it now.' });
  try {
    const role = (): AdminRole => {
      const r = (flags.ALMANAC_ROLE ?? 'admin') as AdminRole;
      if (!ROLES.includes(r)) throw new ControlError('invalid_request', `--role must be one of ${ROLES.join(', ')}, got "${r}"`);
      return r;
    };
    const byName = async () => {
      const name = args[0];
      if (!name) throw new ControlError('invalid_request', 'Missing <username>. See: almanac help');
      return requireUserByName(registry, name);
    };
    switch (sub) {
      case 'list':
        print((await registry.listAdminUsers()).map(publicUser));
        return 0;
      case 'create': {
        const password = env.ALMANAC_ADMIN_PASSWORD || generatePassword();
        const user = await createAdminUser(registry, { username: flags.ALMANAC_USERNAME ?? '', role: role(), password });
        print({ ...publicUser(user), ...shownOnce(password) });
        return 0;
      }
      case 'set-role':
        print(publicUser((await setUserRole(registry, (await byName()).id, role())).after));
        return 0;
      case 'disable':
      case 'enable':
        print(publicUser((await setUserDisabled(registry, (await byName()).id, sub === 'disable')).after));
        return 0;
      case 'reset-password': {
        const password = env.ALMANAC_ADMIN_PASSWORD || generatePassword();
        const user = await resetUserPassword(registry, (await byName()).id, password);
        print({ username: user.username, ...shownOnce(password) });
        return 0;
      }
      default:
        throw new ControlError('invalid_request', `Unknown command "admin-users ${sub ?? ''}".\n\n${ADMIN_USERS_HELP}`);
    }
  } finally {
    await registry.close();
  }
}
