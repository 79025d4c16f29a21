import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { WorkerCounts } from '../../core/ports/index.ts';
import { backoffDelay, planReconcile, type SlotState } from './reconcile.ts';
import { WORKER_ROLES } from '../../core/desired-scale.ts';

const NOW = 1_000_000;
const counts = (c: Partial<WorkerCounts>): WorkerCounts => ({ collector: 0, archiver: 0, aggregator: 0, query: 0, ...c });
const running = (role: SlotState['role'], slot: number): SlotState => ({ role, slot, state: 'running' });

test('nothing running: every desired slot is started', () => {
  assert.deepEqual(planReconcile(counts({ collector: 2, aggregator: 1 }), [], NOW), [
    { type: 'start', role: 'collector', slot: 0 },
    { type: 'start', role: 'collector', slot: 1 },
    { type: 'start', role: 'aggregator', slot: 0 },
  ]);
});

test('at the desired counts: nothing to do', () => {
  const slots = [running('collector', 0), running('aggregator', 0), { role: 'aggregator', slot: 1, state: 'starting' } as SlotState];
  assert.deepEqual(planReconcile(counts({ collector: 1, aggregator: 2 }), slots, NOW), []);
});

test('aggregator 1 → 3 starts slots 1 and 2; 3 → 1 stops the highest slots first', () => {
  assert.deepEqual(planReconcile(counts({ aggregator: 3 }), [running('aggregator', 0)], NOW), [
    { type: 'start', role: 'aggregator', slot: 1 },
    { type: 'start', role: 'aggregator', slot: 2 },
  ]);
  const three = [running('aggregator', 0), running('aggregator', 1), running('aggregator', 2)];
  assert.deepEqual(planReconcile(counts({ aggregator: 1 }), three, NOW), [
    { type: 'stop', role: 'aggregator', slot: 2 },
    { type: 'stop', role: 'aggregator', slot: 1 },
  ]);
});

test('a slot already stopping is left alone (no second stop, and no start while it is stopping)', () => {
  const slots: SlotState[] = [running('archiver', 0), { role: 'archiver', slot: 1, state: 'stopping' }];
  assert.deepEqual(planReconcile(counts({ archiver: 1 }), slots, NOW), []);
  assert.deepEqual(planReconcile(counts({ archiver: 2 }), slots, NOW), [], 'the slot comes back once its process exited');
});

test('a crashed slot in backoff starts again only once its retry time has come', () => {
  const slots: SlotState[] = [{ role: 'query', slot: 0, state: 'backoff', retryAt: NOW + 500 }];
  assert.deepEqual(planReconcile(counts({ query: 1 }), slots, NOW), []);
  assert.deepEqual(planReconcile(counts({ query: 1 }), slots, NOW + 500), [{ type: 'start', role: 'query', slot: 0 }]);
});

test('a slot in backoff that is no longer wanted is forgotten, not stopped', () => {
  const slots: SlotState[] = [running('query', 0), { role: 'query', slot: 1, state: 'backoff', retryAt: NOW + 10_000 }];
  assert.deepEqual(planReconcile(counts({ query: 1 }), slots, NOW), [{ type: 'forget', role: 'query', slot: 1 }]);
});

test('property: after applying the plan (starts run, stops finish), every role has exactly its desired slots 0..n-1', () => {
  const slotArb = fc.record({
    role: fc.constantFrom(...WORKER_ROLES),
    slot: fc.integer({ min: 0, max: 6 }),
    state: fc.constantFrom('starting', 'running', 'backoff', 'stopping') as fc.Arbitrary<SlotState['state']>,
    retryAt: fc.integer({ min: NOW - 1000, max: NOW + 1000 }),
  });
  const desiredArb = fc.record({ collector: fc.nat(6), archiver: fc.nat(6), aggregator: fc.nat(6), query: fc.nat(6) });
  fc.assert(fc.property(desiredArb, fc.uniqueArray(slotArb, { selector: (s) => `${s.role}#${s.slot}` }), (desired, slots) => {
    // The world after the plan, and after every stopping process has exited; slots in a backoff not yet due stay.
    let world = new Map(slots.map((s) => [`${s.role}#${s.slot}`, { ...s }]));
    for (const a of planReconcile(desired, slots, NOW)) {
      const k = `${a.role}#${a.slot}`;
      if (a.type === 'start') world.set(k, { ...world.get(k)!, role: a.role, slot: a.slot, state: 'running', retryAt: 0 });
      else world.delete(k);
    }
    world = new Map([...world].filter(([, s]) => s.state !== 'stopping'));
    const second = planReconcile(desired, [...world.values()], NOW);
    for (const role of WORKER_ROLES) {
      const mine = [...world.values()].filter((s) => s.role === role);
      // Stopped slots that were wanted come back in the second pass; after it the slots are dense.
      const startedNext = second.filter((a) => a.type === 'start' && a.role === role).map((a) => a.slot);
      const have = new Set([...mine.filter((s) => s.state !== 'backoff' || (s.retryAt ?? 0) <= NOW).map((s) => s.slot), ...startedNext]);
      const pending = mine.filter((s) => s.state === 'backoff' && (s.retryAt ?? 0) > NOW).map((s) => s.slot);
      const all = [...new Set([...have, ...pending])].sort((a, b) => a - b);
      assert.deepEqual(all, Array.from({ length: desired[role] }, (_, i) => i), `${role}: ${JSON.stringify(slots)}`);
      assert.ok(second.every((a) => a.type === 'start'), 'a second pass has nothing left to stop');
    }
  }), { numRuns: 500 });
});

test('backoff: 1 s, doubled per crash in a row, capped at the maximum', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 50].map((n) => backoffDelay(n, 1000, 30_000)), [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  assert.equal(backoffDelay(0, 1000, 30_000), 0);
});
