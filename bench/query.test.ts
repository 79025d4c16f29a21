import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bench } from './query.ts';
import { MemoryCache } from '../tests/support/fakes/cache.ts';
import { MemoryRollupStore } from '../tests/support/fakes/rollup-store.ts';

// Shape only: timings depend on the machine, so nothing here asserts on them.
test('bench reports p50/p99 of aggregate and timeseries, cached and uncached', async () => {
  const report = await bench(new MemoryRollupStore(), { iterations: 3, seed: { visitorsPerHour: 2, pages: 3 }, now: Date.UTC(2025, 5, 1, 12) });
  for (const name of ['aggregate', 'timeseriesDaily', 'timeseriesHourly'] as const) {
    for (const mode of ['uncached', 'cached'] as const) {
      const l = report[name][mode];
      assert.equal(l.n, 3);
      assert.ok(l.p50Ms >= 0 && l.p99Ms >= l.p50Ms, `${name} ${mode}`);
    }
  }
});

// The bug: the cluster bench measured the in-process cache instead of Redis.
test('the cached runs go through the cache passed in (the profile\'s: Redis in the cluster)', async () => {
  const now = Date.UTC(2025, 5, 1, 12);
  const inner = new MemoryCache(() => now);
  let gets = 0;
  const cache = Object.assign(Object.create(inner), { get: (key: string) => { gets++; return inner.get(key); } });
  await bench(new MemoryRollupStore(), { iterations: 3, seed: { visitorsPerHour: 2, pages: 3 }, now, cache });
  assert.ok(gets >= 3 * 3, `the cache was read ${gets} times`);
});
