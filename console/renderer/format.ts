/** Small pure formatters for figures shown in the console. */

export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return Math.round(n).toLocaleString('en-US');
}

export function formatRate(perSec: number | null | undefined): string {
  if (perSec === null || perSec === undefined || !Number.isFinite(perSec)) return '—';
  return `${perSec >= 100 ? Math.round(perSec).toLocaleString('en-US') : perSec.toFixed(1)}/s`;
}

/** 1234 → "1.2 s", 90_000 → "1 min 30 s", 7_200_000 → "2 h 0 min". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const min = Math.floor(ms / 60_000);
  if (min < 60) return `${min} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(min / 60)} h ${min % 60} min`;
}

export function formatTime(ms: number | null | undefined): string {
  if (!ms) return '—';
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/** done/total as a whole percentage in 0..100; 0 for an empty total. */
export function percent(done: number, total: number): number {
  if (!(total > 0)) return 0;
  return Math.max(0, Math.min(100, Math.floor((done / total) * 100)));
}

/** YYYY-MM-DD of a UTC day, `offsetDays` from the day of `now`. */
export function utcDay(now: number, offsetDays = 0): string {
  return new Date(now + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

/** An audit entry's before/after as the fields that changed (the whole value when either is not an object). */
export function changedFields(before: unknown, after: unknown): { key: string; before: string; after: string }[] {
  const show = (v: unknown) => (v === undefined ? '∅' : JSON.stringify(v));
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(before) || !isObject(after)) return before === undefined && after === undefined ? [] : before === null && after === null ? [] : [{ key: '(value)', before: show(before), after: show(after) }];
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k])).map((k) => ({ key: k, before: show(before[k]), after: show(after[k]) }));
}
