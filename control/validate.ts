/**
 * Input validation, once: each operation's zod schema lives beside the operation, the tRPC
 * routers pass it to `.input(...)`, and the REST routes and the CLI parse their raw input with it
 * here. A failure is the control path's `invalid_request`, whichever door it came through.
 */
import type { z } from 'zod';
import { ControlError } from './errors.ts';

export function parseInput<S extends z.ZodTypeAny>(schema: S, raw: unknown): z.output<S> {
  const parsed = schema.safeParse(raw ?? {});
  if (parsed.success) return parsed.data;
  throw new ControlError('invalid_request', describeIssues(parsed.error));
}

/** "from: a UTC day as YYYY-MM-DD; source: Invalid enum value…": each field and what is wrong with it. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}
