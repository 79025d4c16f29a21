/**
 * A real browser for tests: Debian's Chromium (/usr/bin/chromium, `apt-get install chromium`)
 * driven by playwright-core. Nothing is downloaded; launch() gives each browser a new, empty
 * user-data-dir of its own.
 *
 * Playwright marks the browser as automated, and a tracker rightly ignores automated browsers
 * (navigator.webdriver) and the collector drops "HeadlessChrome" as a bot. Tests that must look
 * like a person's browser use `visitorContext`, which clears both marks.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface LaunchOptions {
  /** Appended to the standard arguments, e.g. '--host-resolver-rules=...'. */
  args?: string[];
  /**
   * Leave navigator.webdriver false (--disable-blink-features=AutomationControlled), as in a
   * person's browser. Default false: the browser announces that it is automated.
   */
  asVisitor?: boolean;
}

export async function launchBrowser(options: LaunchOptions = {}): Promise<Browser> {
  const args = [...ARGS, ...(options.asVisitor ? ['--disable-blink-features=AutomationControlled'] : []), ...(options.args ?? [])];
  return chromium.launch({ executablePath: CHROMIUM_PATH, args, timeout: 60_000 });
}

/**
 * The user agent of this Chromium as a person's desktop browser sends it: the headless build
 * says "HeadlessChrome", which bot filters (rightly) drop.
 */
export function visitorUserAgent(browser: Browser): string {
  const major = browser.version().split('.')[0];
  return `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${major}.0.0.0 Safari/537.36`;
}

/** A new context that looks like a visitor's browser (launch with asVisitor for navigator.webdriver). */
export function visitorContext(browser: Browser, options: BrowserContextOptions = {}): Promise<BrowserContext> {
  return browser.newContext({ userAgent: visitorUserAgent(browser), viewport: { width: 1200, height: 800 }, ...options });
}

export const ARTIFACTS_DIR = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../artifacts');

/** Saves a full-page screenshot as artifacts/<name>.png and returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, `${name.replace(/[^A-Za-z0-9._-]+/g, '-')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
