/**
 * Time-zone math on top of Intl, with no library: wall-clock dates of an IANA zone <-> UTC instants.
 * Pure functions (the formatters are memoised per zone because building one costs ~50 µs).
 */
import { DAY_MS } from '../core/time.ts';

/** A calendar date, as written in the zone: month is 1-12. */
export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23',
      year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

/**
 * The canonical name of an IANA zone ('europe/berlin' -> 'Europe/Berlin'), or undefined when Intl
 * does not know it. Canonical names keep cache keys from splitting on spelling.
 */
export function canonicalTimeZone(name: string): string | undefined {
  if (!name || name.length > 64) return undefined;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

interface WallClock extends LocalDate {
  hour: number;
  minute: number;
  second: number;
}

function wallClock(tz: string, instant: number): WallClock {
  const out: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(new Date(instant))) {
    if (p.type !== 'literal') out[p.type] = Number(p.value);
  }
  return { year: out.year, month: out.month, day: out.day, hour: out.hour, minute: out.minute, second: out.second };
}

/** UTC offset of the zone at an instant, ms (Berlin in summer: +7_200_000). */
export function offsetAt(tz: string, instant: number): number {
  const whole = Math.floor(instant / 1000) * 1000;
  const w = wallClock(tz, whole);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - whole;
}

/** The calendar date in the zone at an instant. */
export function localDateOf(tz: string, instant: number): LocalDate {
  const { year, month, day } = wallClock(tz, instant);
  return { year, month, day };
}

/**
 * The first instant of a local calendar day. Usually local midnight; where a DST jump skips
 * midnight (e.g. America/Santiago) the day starts at the jump, which is the first instant that
 * belongs to that date. Where midnight happens twice, the earlier one.
 */
export function startOfLocalDay(tz: string, date: LocalDate): number {
  // Memoised: planning a daily series costs ~5 Intl calls per day, and runs before every cache lookup.
  const key = `${tz}|${date.year}|${date.month}|${date.day}`;
  let t = dayStarts.get(key);
  if (t === undefined) {
    if (dayStarts.size >= 50_000) dayStarts.clear();
    dayStarts.set(key, (t = computeStartOfLocalDay(tz, date)));
  }
  return t;
}

const dayStarts = new Map<string, number>();

function computeStartOfLocalDay(tz: string, date: LocalDate): number {
  const wall = Date.UTC(date.year, date.month - 1, date.day);
  // Zones change offset at most once within a day either side, so the right offset is one of these two.
  const before = offsetAt(tz, wall - DAY_MS);
  const after = offsetAt(tz, wall + DAY_MS);
  const hits = [before, after].map((o) => wall - o).filter((t) => offsetAt(tz, t) === wall - t);
  if (hits.length > 0) return Math.min(...hits);
  // Midnight is in a gap: the day begins at the transition, which is midnight read in the old offset.
  return wall - before;
}

/** Adds days to a calendar date (no zone involved: calendar arithmetic). */
export function addDays(date: LocalDate, days: number): LocalDate {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** Adds calendar months to the first of a month. */
export function addMonths(date: LocalDate, months: number): LocalDate {
  const d = new Date(Date.UTC(date.year, date.month - 1 + months, 1));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: 1 };
}

/** Whole days from a to b (b later is positive). */
export function daysBetween(a: LocalDate, b: LocalDate): number {
  return Math.round((Date.UTC(b.year, b.month - 1, b.day) - Date.UTC(a.year, a.month - 1, a.day)) / DAY_MS);
}

export function formatLocalDate(d: LocalDate): string {
  return `${String(d.year).padStart(4, '0')}-${pad(d.month)}-${pad(d.day)}`;
}

/** Parses YYYY-MM-DD, rejecting impossible dates such as 2025-02-30. */
export function parseLocalDate(s: string): LocalDate | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return undefined;
  const d = { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
  const back = addDays(d, 0);
  return back.year === d.year && back.month === d.month && back.day === d.day ? d : undefined;
}

/**
 * An instant as ISO 8601 with the zone's offset at that instant: 2025-03-30T03:00:00+02:00.
 * Clients get the local wall time and can still compute the instant; '+00:00' rather than 'Z' so
 * every label has the same shape.
 */
export function formatInZone(tz: string, instant: number): string {
  const w = wallClock(tz, instant);
  const off = Math.round(offsetAt(tz, instant) / 60_000);
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  return `${formatLocalDate(w)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/**
 * Parses an ISO datetime. With an offset or Z it is an instant; without one it is a wall time in `tz`
 * A wall time that a DST change skips or repeats resolves to one of the nearby instants (good enough
 * for range ends, which are snapped to whole hours anyway).
 */
/** The datetimes from/to accept (the OpenAPI document states the same pattern). */
export const DATETIME_PATTERN = '^(\\d{4})-(\\d{2})-(\\d{2})(?:[T ](\\d{2}):(\\d{2})(?::(\\d{2})(?:\\.(\\d{1,3}))?)?)?(Z|[+-]\\d{2}:?\\d{2})?$';
const DATETIME_RE = new RegExp(DATETIME_PATTERN);

export function parseDateTime(s: string, tz: string): number | undefined {
  const m = DATETIME_RE.exec(s);
  if (!m) return undefined;
  const date = parseLocalDate(`${m[1]}-${m[2]}-${m[3]}`);
  const [h, mi, sec] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  if (!date || h > 23 || mi > 59 || sec > 59) return undefined;
  const ms = m[7] ? Number(m[7].padEnd(3, '0')) : 0;
  const wall = Date.UTC(date.year, date.month - 1, date.day, h, mi, sec, ms);
  const zone = m[8];
  if (zone === 'Z') return wall;
  if (zone) {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    const minutes = Number(z[2]) * 60 + Number(z[3]);
    if (Number(z[2]) > 14 || Number(z[3]) > 59) return undefined;
    return wall - (z[1] === '-' ? -1 : 1) * minutes * 60_000;
  }
  // Offset in force at the wall time: read it at a first guess, then once more from there.
  const guess = wall - offsetAt(tz, wall);
  return wall - offsetAt(tz, guess);
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
