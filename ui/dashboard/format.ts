/** How figures are written on screen. Pure, so the browser test can compare against the API. */
import type { Value } from './api.ts';

export function formatValue(metric: string, v: Value | undefined): string {
  if (v === undefined) return '–';
  if (typeof v !== 'number') {
    const parts = Object.entries(v).map(([cur, amount]) => `${amount.toFixed(2)} ${cur}`);
    return parts.length ? parts.join(' · ') : '0';
  }
  if (metric === 'bounce_rate') return `${v}%`;
  if (metric === 'visit_duration') return formatDuration(v);
  if (metric === 'views_per_visit') return v.toFixed(2);
  return v.toLocaleString('en-US');
}

export function formatDuration(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return m > 0 ? `${m}m ${String(s).padStart(2, '0')}s` : `${s}s`;
}

/** "+12.5%", "−3%", or "" when there is no previous figure to compare with. */
export function formatChange(change: number | null | Record<string, number | null> | undefined): string {
  const c = typeof change === 'object' && change !== null ? Object.values(change)[0] ?? null : change;
  if (c === null || c === undefined) return '';
  return `${c > 0 ? '+' : c < 0 ? '−' : '±'}${Math.abs(c)}%`;
}

export function changeDirection(change: number | null | Record<string, number | null> | undefined): 'up' | 'down' | 'flat' {
  const c = typeof change === 'object' && change !== null ? Object.values(change)[0] ?? null : change;
  return c === null || c === undefined || c === 0 ? 'flat' : c > 0 ? 'up' : 'down';
}

/** "data as of" line: the time in the dashboard's zone and how long ago. */
export function formatAsOf(iso: string | null, timezone: string, now: number): string {
  if (!iso) return 'No data received yet';
  const t = Date.parse(iso);
  const time = new Intl.DateTimeFormat('en-GB', { timeZone: timezone, dateStyle: 'medium', timeStyle: 'short' }).format(t);
  const mins = Math.max(0, Math.round((now - t) / 60_000));
  const ago = mins < 1 ? 'just now' : mins < 120 ? `${mins} min ago` : `${Math.round(mins / 60)} h ago`;
  return `Data as of ${time} (${ago})`;
}

export function isHexColour(s: string | null | undefined): s is string {
  return typeof s === 'string' && /^#[0-9a-fA-F]{6}$/.test(s);
}
