/**
 * Validation of one incoming event: shape (the one zod schema in core/event.ts) and time.
 * Pure: the receive time and the limits come in as arguments.
 */
import type { ZodIssue } from 'zod';
import { incomingEventSchema, type IncomingEvent } from '../core/event.ts';
import { reject, type Rejection } from '../core/errors.ts';
import { HOUR_MS } from '../core/time.ts';

export interface ValidationLimits {
  /** Oldest accepted client timestamp, hours before receipt. */
  maxEventAgeHours: number;
  /** Future skew, ms, that is clamped to the receive time instead of rejected. */
  maxFutureSkewMs: number;
}

/** A valid event always has its effective time. */
export type ValidEvent = IncomingEvent & { ts: number };

export type ValidationResult = { ok: true; event: ValidEvent } | Rejection;

/** How many zod issues to name in `detail`: enough to fix a hand-written event, short enough to log. */
const MAX_ISSUES_IN_DETAIL = 3;
/** Below this, a "ms" timestamp is before 1973: almost surely seconds. */
const SECONDS_LOOKALIKE = 1e11;

export function validateEvent(input: unknown, now: number, limits: ValidationLimits): ValidationResult {
  const parsed = incomingEventSchema.safeParse(input);
  if (!parsed.success) return reject('invalid_event', describeIssues(parsed.error.issues));
  const event = parsed.data;

  if (event.ts === undefined) return { ok: true, event: { ...event, ts: now } };
  if (event.ts > now + limits.maxFutureSkewMs) {
    return reject('timestamp_in_future', `ts is ${Math.round((event.ts - now) / 1000)} s ahead of the collector clock (at most ${Math.round(limits.maxFutureSkewMs / 1000)} s is tolerated)`);
  }
  if (event.ts < now - limits.maxEventAgeHours * HOUR_MS) {
    // A Unix time in seconds is the usual mistake; say so rather than "490000 h old".
    const hint = event.ts < SECONDS_LOOKALIKE ? '; it looks like seconds, send milliseconds (Date.now())' : '';
    return reject('timestamp_too_old', `ts is ${Math.floor((now - event.ts) / HOUR_MS)} h old (at most ${limits.maxEventAgeHours} h is accepted)${hint}`);
  }
  // Device clocks run a little fast; an event cannot have happened after it was received.
  return { ok: true, event: { ...event, ts: Math.min(event.ts, now) } };
}

/** Turns zod issues into one line that names each field and what to send instead. */
export function describeIssues(issues: readonly ZodIssue[]): string {
  const parts = issues.slice(0, MAX_ISSUES_IN_DETAIL).map(describeIssue);
  if (issues.length > MAX_ISSUES_IN_DETAIL) parts.push(`and ${issues.length - MAX_ISSUES_IN_DETAIL} more`);
  return parts.join('; ');
}

function describeIssue(issue: ZodIssue): string {
  const field = issue.path.length ? issue.path.map(String).join('.') : 'event';
  if (field === 'ts') return 'ts: milliseconds since the epoch as a positive integer (Date.now()), or omit it';
  switch (issue.code) {
    case 'invalid_type':
      if (issue.path.length === 0) return `event: send a JSON object, not ${article(issue.received)}`;
      if (issue.received === 'undefined') return `${field}: is required (${issue.expected})`;
      return `${field}: expected ${issue.expected}, got ${issue.received}`;
    case 'unrecognized_keys':
      return (
        `${field === 'event' ? '' : field + ': '}unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.slice(0, 5).map((k) => `"${k}"`).join(', ')}; ` +
        `remove ${issue.keys.length > 1 ? 'them' : 'it'}${field === 'event' ? ' (custom data goes in props)' : ''}`
      );
    case 'invalid_enum_value':
      return `${field}: must be one of ${issue.options.map((o) => `"${String(o)}"`).join(', ')}`;
    case 'too_big':
      return `${field}: ${issue.type === 'string' ? `at most ${issue.maximum} characters` : `at most ${issue.maximum}`}`;
    case 'too_small':
      return `${field}: ${issue.type === 'string' ? `at least ${issue.minimum} character${issue.minimum === 1 ? '' : 's'}` : `at least ${issue.minimum}`}`;
    case 'invalid_union':
      // Only prop values are unions: a string of bounded length or a finite number.
      return `${field}: must be a string (at most 256 characters) or a finite number`;
    default:
      return `${field}: ${issue.message}`;
  }
}

function article(type: string): string {
  return type === 'array' ? 'an array' : type === 'null' ? 'null' : `a ${type}`;
}
