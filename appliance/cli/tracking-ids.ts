/** `almanac tracking-ids list | create | snippet`: thin over control/tracking-ids.ts. */
import { snippetFor } from '../../collectors/index.ts';
import { createTrackingId, newTrackingIdInput, requireTrackingId } from '../../control/tracking-ids.ts';
import { parseInput } from '../../control/validate.ts';
import { required, type CliCommand } from './context.ts';

export const TRACKING_IDS_HELP = `  almanac tracking-ids list [--tenant <tenantId>]
  almanac tracking-ids create --tenant <tenantId> --name "Shop" --origins https://shop.example[,https://www.shop.example]
  almanac tracking-ids snippet <trackingId> [--allow-localhost]
`;

export const TRACKING_ID_COMMANDS: Record<string, CliCommand> = {
  'tracking-ids list': async ({ registry, flags, print }) => print(await registry.listTrackingIds(flags.ALMANAC_TENANT)),
  'tracking-ids create': async ({ config, registry, flags, print }) => {
    const site = await createTrackingId(registry, parseInput(newTrackingIdInput, {
      tenantId: required(flags.ALMANAC_TENANT, '--tenant'),
      name: flags.ALMANAC_NAME ?? 'Website',
      allowedOrigins: required(flags.ALMANAC_ORIGINS, '--origins').split(','),
      respectDnt: flags.ALMANAC_RESPECT_DNT === 'true',
    }));
    print({ ...site, snippet: snippetFor(site.id, config.publicUrl) });
  },
  'tracking-ids snippet': async ({ config, registry, args, flags, write }) => {
    const id = required(args[0], '<trackingId>');
    await requireTrackingId(registry, id);
    write(snippetFor(id, config.publicUrl, { allowLocalhost: flags.ALMANAC_ALLOW_LOCALHOST === 'true' }) + '\n');
  },
};
