/**
 * The reconcile decision, as pure functions: what the supervisor must do to bring the worker slots
 * it has to the desired counts. Like a tiny controller: it never remembers what it did, it compares
 * the desired state with what runs now, every tick.
 *
 * A slot is one worker position `<role>#<n>`. Slots 0..desired-1 must be running; higher slots
 * must be stopped. A slot whose process died waits in `backoff` until its retry time.
 */
import type { WorkerCounts, WorkerRole } from '../../core/ports/index.ts';
import { WORKER_ROLES } from '../../core/desired-scale.ts';

export interface SlotState {
  role: WorkerRole;
  slot: number;
  state: 'starting' | 'running' | 'backoff' | 'stopping';
  /** When a slot in backoff may start again (epoch ms). */
  retryAt?: number;
}

export type ReconcileAction =
  | { type: 'start'; role: WorkerRole; slot: number }
  | { type: 'stop'; role: WorkerRole; slot: number }
  /** A slot in backoff that is no longer wanted: forget it (no process to stop). */
  | { type: 'forget'; role: WorkerRole; slot: number };

export function planReconcile(desired: Readonly<WorkerCounts>, slots: readonly SlotState[], now: number): ReconcileAction[] {
  const actions: ReconcileAction[] = [];
  for (const role of WORKER_ROLES) {
    const want = desired[role];
    const mine = new Map(slots.filter((s) => s.role === role).map((s) => [s.slot, s]));
    for (let slot = 0; slot < want; slot++) {
      const s = mine.get(slot);
      if (!s) actions.push({ type: 'start', role, slot });
      else if (s.state === 'backoff' && (s.retryAt ?? 0) <= now) actions.push({ type: 'start', role, slot });
    }
    // Highest slots first: scaling 3 → 1 stops #2 and #1, and the slot numbers stay dense.
    for (const s of [...mine.values()].sort((a, b) => b.slot - a.slot)) {
      if (s.slot < want) continue;
      if (s.state === 'backoff') actions.push({ type: 'forget', role, slot: s.slot });
      else if (s.state !== 'stopping') actions.push({ type: 'stop', role, slot: s.slot });
    }
  }
  return actions;
}

/**
 * How long a slot waits before its next start after `crashesInARow` unexpected exits (1, 2, …):
 * initial, doubled each time, at most max.
 */
export function backoffDelay(crashesInARow: number, initialMs: number, maxMs: number): number {
  if (crashesInARow <= 0) return 0;
  return Math.min(maxMs, initialMs * 2 ** Math.min(crashesInARow - 1, 30));
}

/** A worker that ran this long before it died counts as healthy: its next crash starts the backoff over. */
export function stableAfterMs(maxMs: number): number {
  return Math.max(10_000, maxMs);
}
