/**
 * Step: drop a known bot's events. They are answered as taken (so the bot does not retry),
 * counted as bot:<reason>, and never appended.
 */
import type { IngestCounters } from '../counters.ts';
import { detectBot } from '../enrich/index.ts';
import { done, next, type Attributed, type PureIngestStep } from './types.ts';

export function createDropBotsStep(deps: { counters: Pick<IngestCounters, 'add'> }): PureIngestStep<Attributed, Attributed> {
  return function dropBots(input) {
    const bot = input.checkBots ? detectBot(input.userAgent) : null;
    if (!bot) return next(input);
    const { trackingId, valid, rejected, allowOrigin } = input;
    const dropped = { ...input.dropped };
    deps.counters.add(trackingId, `bot:${bot}`, valid.length);
    if (valid.length > 0) dropped.bot = valid.length;
    return done({ ok: true, accepted: 0, dropped, rejected, bot, allowOrigin });
  };
}
