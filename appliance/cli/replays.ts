/** `almanac replays start | list | show | cancel`: thin over control/replays.ts. */
import { cancelReplay, describeReplay, getReplay, listReplays, startReplay, startReplayInput } from '../../control/replays.ts';
import { parseInput } from '../../control/validate.ts';
import { required, type CliCommand } from './context.ts';

export const REPLAYS_HELP = `  almanac replays start (--tracking-id <id>[,<id>] | --tenant <tenantId>) --from 2026-11-01 --to 2026-11-27 [--dry-run] [--source auto|log|archive]
  almanac replays list | replays show <replayId> | replays cancel <replayId>
`;

export const REPLAY_COMMANDS: Record<string, CliCommand> = {
  // Queued here; the aggregator that owns each site's partition runs it (the appliance must be running).
  'replays start': async ({ registry, flags, print }) => print(describeReplay(await startReplay(registry, parseInput(startReplayInput, {
    trackingIds: flags.ALMANAC_TRACKING_ID?.split(','),
    tenantId: flags.ALMANAC_TENANT,
    from: required(flags.ALMANAC_FROM, '--from'),
    to: required(flags.ALMANAC_TO, '--to'),
    dryRun: flags.ALMANAC_DRY_RUN === 'true',
    // auto (default): the event log while the range is within its retention, else the archive.
    source: flags.ALMANAC_SOURCE,
  }), { eventLog: registry.eventLog }))),
  'replays list': async ({ registry, print }) => print((await listReplays(registry)).map(describeReplay)),
  'replays show': async ({ registry, args, print }) => print(describeReplay(await getReplay(registry, required(args[0], '<replayId>')))),
  'replays cancel': async ({ registry, args, print }) => print(describeReplay(await cancelReplay(registry, required(args[0], '<replayId>')))),
};
