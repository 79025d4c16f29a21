/** UTC days as the replay API shows them: YYYY-MM-DD. */
import { DAY_MS } from '../../core/time.ts';

export function dayKey(ms: number): string {
  return new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
}

/** The UTC start (ms) of a YYYY-MM-DD day, or undefined if it is not a real calendar day. */
export function parseDay(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return dayKey(ms) === text ? ms : undefined;
}
