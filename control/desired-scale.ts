/**
 * The desired worker counts of a node: defaults, the one limit per role, and the check every
 * write goes through (the admin API's input schema uses the same limit, and both registry
 * adapters call the check, so every door gets the same answer).
 */
import { z } from 'zod';
import type { Registry, ScalingRegistry, WorkerCounts, WorkerRole } from '../core/ports.ts';
import { ControlError } from './errors.ts';

export const WORKER_ROLES: readonly WorkerRole[] = ['collector', 'archiver', 'aggregator', 'query'];

/** What a node runs when nothing was ever set for it: one worker of each role. */
export const DEFAULT_SCALE: Readonly<WorkerCounts> = Object.freeze({ collector: 1, archiver: 1, aggregator: 1, query: 1 });

/** More workers of one role on one node than this is a typo, not a plan. */
export const MAX_WORKERS_PER_ROLE = 16;

// No upper bound here: the one limit is MAX_WORKERS_PER_ROLE in desiredScaleProblem, which every
// write meets (invalid_scale), so a count over it gets the same answer through every door.
const count = z.number().int().min(0);
/** The shape of a desired scale; the limits and what the profile allows are desiredScaleProblem's. */
export const workerCountsInput = z.object({ collector: count, archiver: count, aggregator: count, query: count });

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

export function assertDesiredScale(counts: unknown, profile: 'embedded' | 'cluster'): asserts counts is WorkerCounts {
  const problem = desiredScaleProblem(counts, profile);
  if (problem) throw new ControlError('invalid_scale', problem);
}

function scalingRegistry(registry: Registry): Registry & ScalingRegistry {
  if (!registry.listNodes || !registry.setDesiredScale || !registry.getDesiredScale || !registry.reportNode) {
    throw new ControlError('unsupported', 'This appliance does not report nodes or accept scaling yet (no scaling registry): update it, or scale with the start flags.');
  }
  return registry as Registry & ScalingRegistry;
}

export function listNodes(registry: Registry, maxAgeMs?: number) {
  return scalingRegistry(registry).listNodes(maxAgeMs);
}

/** Sets what the node's supervisor should run; the registry refuses a scale the profile cannot run (invalid_scale). */
export async function setDesiredScale(registry: Registry, nodeId: string, counts: WorkerCounts): Promise<{ before: WorkerCounts | null; after: WorkerCounts }> {
  const scaling = scalingRegistry(registry);
  const before = (await scaling.getDesiredScale(nodeId)) ?? null;
  await scaling.setDesiredScale(nodeId, counts);
  return { before, after: counts };
}
