/** Writes one audit entry per mutation: who, what, on which target, before and after, when. */
import { randomBytes } from 'node:crypto';
import type { AuditEntry, Registry } from '../core/ports/index.ts';
import type { Identity } from './sessions.ts';

/** Who did it, and where the entry goes: the admin API's context is one. */
export interface AuditScope {
  deps: { registry: Registry };
  now: () => number;
  identity: Pick<Identity, 'actor' | 'name'>;
}

/**
 * IDs sort by time: 9 base-36 digits of ms (good until the year 5188), a 4-digit sequence so
 * that entries of one process within one millisecond keep their order, and a random tail.
 */
let last = { at: 0, seq: 0 };
export function newAuditId(at: number): string {
  last = at > last.at ? { at, seq: 0 } : { at: last.at, seq: last.seq + 1 };
  return last.at.toString(36).padStart(9, '0') + last.seq.toString(36).padStart(4, '0') + randomBytes(4).toString('hex');
}

export async function recordAudit(
  ctx: AuditScope,
  action: string,
  target: string | null,
  before: unknown,
  after: unknown,
): Promise<void> {
  const at = ctx.now();
  const entry: AuditEntry = {
    id: newAuditId(at), at, actor: ctx.identity.actor, actorName: ctx.identity.name, action, target,
    before: redact(before ?? null), after: redact(after ?? null),
  };
  await ctx.deps.registry.appendAudit(entry);
}

const SECRET_FIELDS = new Set(['passwordHash', 'serverKey', 'password', 'token', 'keyHash']);

/** Secrets never reach the audit log; a changed secret shows as "(changed)". */
function redact(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(redact);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_FIELDS.has(k) ? '(secret)' : redact(v)]));
}
