/** `almanac tenants list | create`: thin over control/tenants.ts. */
import { createTenant, newTenantInput } from '../../control/tenants.ts';
import { parseInput } from '../../control/validate.ts';
import { optionalInt, type CliCommand } from './context.ts';

export const TENANTS_HELP = `  almanac tenants list
  almanac tenants create --name "Acme" [--rate-limit 1000] [--retention-days 730]
`;

export const TENANT_COMMANDS: Record<string, CliCommand> = {
  'tenants list': async ({ registry, print }) => print(await registry.listTenants()),
  'tenants create': async ({ registry, flags, print }) => print(await createTenant(registry, parseInput(newTenantInput, {
    name: flags.ALMANAC_NAME ?? '',
    rateLimitPerSec: optionalInt(flags.ALMANAC_RATE_LIMIT, '--rate-limit'),
    retentionDays: optionalInt(flags.ALMANAC_RETENTION_DAYS, '--retention-days'),
  }))),
};
