/**
 * Bot detection on the user agent. isbot covers crawlers and HTTP libraries; we add the cheap
 * signals it does not name separately so the drop counters say why (bot:<reason>).
 */
import { isbot } from 'isbot';

export type BotReason = 'empty_ua' | 'headless' | 'ua_pattern';

/** Browser automation that runs real engines: scrapers and test runners, not visitors. */
const HEADLESS = /headless|phantomjs|slimerjs|puppeteer|playwright|selenium|webdriver|cypress/i;

/** The reason the UA looks like a bot, or null for a plausible browser. */
export function detectBot(ua: string | undefined): BotReason | null {
  if (!ua || !ua.trim()) return 'empty_ua';
  if (HEADLESS.test(ua)) return 'headless';
  if (isbot(ua)) return 'ua_pattern';
  return null;
}
