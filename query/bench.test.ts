import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bench } from './bench.ts';
import { MemoryRollupStore } from './test-support.ts';

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
