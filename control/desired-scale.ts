/**
 * Desired scale as an operation: the input shape, the refusal (invalid_scale) and the reads and
 * writes. The rule itself (roles, defaults, the one limit per role) is core/desired-scale.ts; both
 * registry adapters call assertDesiredScale on every write, so every door gets the same answer.
 */
import { z } from 'zod';
import type { Registry, WorkerCounts } from '../core/ports/index.ts';
import { desiredScaleProblem } from '../core/desired-scale.ts';
import { ControlError } from './errors.ts';

// No upper bound here: the one limit is MAX_WORKERS_PER_ROLE in desiredScaleProblem, which every
// write meets (invalid_scale), so a count over it gets the same answer through every door.
const count = z.number().int().min(0);
/** The shape of a desired scale; the limits and what the profile allows are desiredScaleProblem's. */
export const workerCountsInput = z.object({ collector: count, archiver: count, aggregator: count, query: count });

export function assertDesiredScale(counts: unknown, profile: 'embedded' | 'cluster'): asserts counts is WorkerCounts {
  const problem = desiredScaleProblem(counts, profile);
  if (problem) throw new ControlError('invalid_scale', problem);
}

export function listNodes(registry: Registry, maxAgeMs?: number) {
  return registry.listNodes(maxAgeMs);
}

/** Sets what the node's supervisor should run; the registry refuses a scale the profile cannot run (invalid_scale). */
export async function setDesiredScale(registry: Registry, nodeId: string, counts: WorkerCounts): Promise<{ before: WorkerCounts | null; after: WorkerCounts }> {
  const before = (await registry.getDesiredScale(nodeId)) ?? null;
  await registry.setDesiredScale(nodeId, counts);
  return { before, after: counts };
}
