/**
 * The desired worker counts of a node: defaults, the one limit per role, and the check every write
 * goes through. Pure, so both registry adapters and control/desired-scale.ts share it; the refusal
 * as an error (invalid_scale) is control's.
 */
import type { WorkerCounts, WorkerRole } from './ports/index.ts';

export const WORKER_ROLES: readonly WorkerRole[] = ['collector', 'archiver', 'aggregator', 'query'];

/** What a node runs when nothing was ever set for it: one worker of each role. */
export const DEFAULT_SCALE: Readonly<WorkerCounts> = Object.freeze({ collector: 1, archiver: 1, aggregator: 1, query: 1 });

/** More workers of one role on one node than this is a typo, not a plan. */
export const MAX_WORKERS_PER_ROLE = 16;

/**
 * The problem with `counts` for a node of `profile`, or undefined when they can be applied.
 * Embedded: every role runs in the one appliance process on one SQLite file, whose event log has
 * one consumer per group (archiver, aggregator) — so the only possible scale is one of each.
 */
export function desiredScaleProblem(counts: unknown, profile: 'embedded' | 'cluster'): string | undefined {
  if (typeof counts !== 'object' || counts === null) return 'The desired scale must be an object with a count per role (collector, archiver, aggregator, query).';
  const c = counts as Record<string, unknown>;
  const unknown = Object.keys(c).filter((k) => !(WORKER_ROLES as readonly string[]).includes(k));
  if (unknown.length > 0) return `Unknown worker role ${unknown.map((k) => `"${k}"`).join(', ')}: the roles are ${WORKER_ROLES.join(', ')}.`;
  for (const role of WORKER_ROLES) {
    const n = c[role];
    if (!Number.isInteger(n) || (n as number) < 0 || (n as number) > MAX_WORKERS_PER_ROLE) {
      return `The ${role} count must be a whole number from 0 to ${MAX_WORKERS_PER_ROLE}, got ${JSON.stringify(n)}.`;
    }
  }
  if ((c.collector as number) + (c.query as number) === 0) {
    return 'A node needs at least one collector or query worker: they serve the node\'s HTTP port, and with it this admin API.';
  }
  if (profile === 'embedded') {
    const off = WORKER_ROLES.filter((role) => c[role] !== 1);
    if (off.length > 0) {
      return `The embedded profile runs every role once, in one process on one SQLite file (its event log has a single consumer per group), so ${off.join(', ')} cannot be set to ${off.map((r) => c[r]).join(', ')}. ` +
        'Run the cluster profile (Kafka, Cassandra, MongoDB, Redis) to scale workers.';
    }
  }
  return undefined;
}
