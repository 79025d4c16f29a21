/** `almanac api-keys list | create`: thin over control/api-keys.ts. A key is printed once; the registry keeps its hash. */
import { createApiKey } from '../../control/api-keys.ts';
import { required, type CliCommand } from './context.ts';

export const API_KEYS_HELP = `  almanac api-keys list [--tenant <tenantId>]
  almanac api-keys create --tenant <tenantId> [--name "dashboard"] [--admin]
`;

export const API_KEY_COMMANDS: Record<string, CliCommand> = {
  'api-keys list': async ({ registry, flags, print }) =>
    print((await registry.listApiKeys(flags.ALMANAC_TENANT)).map(({ keyHash: _hidden, ...rest }) => rest)),
  'api-keys create': async ({ registry, flags, print }) => {
    const { record, key } = await createApiKey(registry, {
      tenantId: required(flags.ALMANAC_TENANT, '--tenant'),
      name: flags.ALMANAC_NAME ?? 'api key',
      scope: flags.ALMANAC_ADMIN === 'true' ? 'admin' : 'tenant',
    });
    const { keyHash: _hidden, ...shown } = record;
    print({ ...shown, key, note: 'The key is shown once; store it now.' });
  },
};
