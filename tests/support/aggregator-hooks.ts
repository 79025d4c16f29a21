/**
 * The aggregator's test hooks, and how a harness wires them into a real appliance: this module's
 * URL with the settings as its query (`?crashAfterCommits=1`, `?dropBrowser=Firefox`) is the
 * appliance's hooksModule, loaded in whichever thread runs the aggregator; a child process gets
 * it through hooked-almanac.mjs.
 */
import { writeSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AggregatorHooks } from '../../pipeline/aggregator.ts';

export interface HookSettings {
  /** SIGKILL the process right after this many rollup commits, before the log's offset commit. */
  crashAfterCommits?: number;
  /** A wrong logic: events of this browser are consumed but not counted, buckets stamped logic version 0. */
  dropBrowser?: string;
}

export function dropBrowser(browser: string): NonNullable<AggregatorHooks['logic']> {
  return { version: 0, counted: (events) => events.filter((e) => e.browser !== browser) };
}

export function crashAfterCommits(n: number): NonNullable<AggregatorHooks['afterCommit']> {
  return ({ partition, nextOffset, commits }) => {
    if (commits < n) return;
    // Written straight to fd 2: a log line sent to another thread would die with the process.
    writeSync(2, `aggregator: TEST ONLY: killing this process after rollup commit ${commits} (partition ${partition}, next offset ${nextOffset}), before the log offset commit\n`);
    process.kill(process.pid, 'SIGKILL');
  };
}

export function hooksFor(settings: HookSettings): AggregatorHooks {
  return {
    ...(settings.crashAfterCommits !== undefined ? { afterCommit: crashAfterCommits(settings.crashAfterCommits) } : {}),
    ...(settings.dropBrowser !== undefined ? { logic: dropBrowser(settings.dropBrowser) } : {}),
  };
}

/** The URL an appliance loads these hooks from (its hooksModule). */
export function hooksModule(settings: HookSettings): string {
  const url = new URL(import.meta.url);
  if (settings.crashAfterCommits !== undefined) url.searchParams.set('crashAfterCommits', String(settings.crashAfterCommits));
  if (settings.dropBrowser !== undefined) url.searchParams.set('dropBrowser', settings.dropBrowser);
  return url.href;
}

/** What the appliance loads: the hooks this module's query asks for (none without a query). */
export const aggregatorHooks: AggregatorHooks = hooksFor(settingsOf(new URL(import.meta.url).searchParams));

function settingsOf(query: URLSearchParams): HookSettings {
  const crash = query.get('crashAfterCommits');
  const browser = query.get('dropBrowser');
  return { ...(crash !== null ? { crashAfterCommits: Number(crash) } : {}), ...(browser !== null ? { dropBrowser: browser } : {}) };
}

/** The command line (after process.execPath) of `almanac` with these hooks wired in, before its own arguments. */
export function hookedAlmanac(settings: HookSettings): string[] {
  return [path.join(path.dirname(fileURLToPath(import.meta.url)), 'hooked-almanac.mjs'), hooksModule(settings)];
}
