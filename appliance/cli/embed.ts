/**
 * CLI commands for dashboard embedding (thin over control/embed.ts):
 *
 *   almanac embed-tokens create --tracking-id <id> [--expires-in-days 30 | --expires-at <ISO>] [--page-prefix /blog/] [--origins https://portal.example,…]
 *   almanac tenants rotate-embed-secret <tenantId>
 */
import type { AlmanacConfig } from '../main/config.ts';
import { openRegistryOnly } from '../main/profiles.ts';
import { ControlError } from '../../control/errors.ts';
import { issueEmbedToken, issueEmbedTokenInput, rotateEmbedSecret } from '../../control/embed.ts';
import { parseInput } from '../../control/validate.ts';

export const EMBED_HELP = `  almanac embed-tokens create --tracking-id <id> [--expires-in-days 30 | --expires-at 2026-12-31T00:00:00Z] [--page-prefix /blog/] [--origins https://portal.example[,…]]
  almanac tenants rotate-embed-secret <tenantId>      (revokes every embed token of the tenant)
`;

/** Whether `command sub` is one of ours. */
export function isEmbedCommand(command: string, sub: string | undefined): boolean {
  return (command === 'embed-tokens' && sub === 'create') || (command === 'tenants' && sub === 'rotate-embed-secret');
}

export async function embedCommand(
  config: Readonly<AlmanacConfig>,
  command: string,
  sub: string | undefined,
  args: string[],
  flags: Record<string, string | undefined>,
  out: (text: string) => void = (t) => process.stdout.write(t),
): Promise<number> {
  const registry = await openRegistryOnly(config);
  const print = (value: unknown) => out(JSON.stringify(value, null, 2) + '\n');
  try {
    if (command === 'embed-tokens') {
      const trackingId = flags.ALMANAC_TRACKING_ID;
      if (!trackingId || trackingId === 'true') throw new ControlError('invalid_request', 'Missing --tracking-id. See: almanac help');
      const days = flags.ALMANAC_EXPIRES_IN_DAYS;
      const input = parseInput(issueEmbedTokenInput, {
        trackingId,
        expiresInDays: days === undefined ? undefined : Number(days),
        expiresAt: flags.ALMANAC_EXPIRES_AT,
        pagePrefix: flags.ALMANAC_PAGE_PREFIX,
        allowedOrigins: flags.ALMANAC_ORIGINS ? flags.ALMANAC_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean) : undefined,
      });
      print(await issueEmbedToken({ registry, publicUrl: config.publicUrl }, input, Date.now()));
      return 0;
    }
    const tenantId = args[0];
    if (!tenantId) throw new ControlError('invalid_request', 'Missing <tenantId>. See: almanac help');
    print({ ...(await rotateEmbedSecret(registry, tenantId)), note: 'Every embed token issued for this tenant before now is revoked.' });
    return 0;
  } finally {
    await registry.close();
  }
}
