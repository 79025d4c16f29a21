import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_COLLECTOR_CONFIG, resolveCollectorConfig } from './config.ts';

test('defaults, partial overrides, and maxBodyBytes as one number', () => {
  assert.deepEqual(resolveCollectorConfig(), DEFAULT_COLLECTOR_CONFIG);
  assert.deepEqual(DEFAULT_COLLECTOR_CONFIG.maxBodyBytes, { event: 16_384, batch: 1_048_576 });
  const c = resolveCollectorConfig({ trustProxy: true, maxEventAgeHours: undefined, maxBodyBytes: { event: 4096 } });
  assert.equal(c.trustProxy, true);
  assert.equal(c.maxEventAgeHours, 72);
  assert.deepEqual(c.maxBodyBytes, { event: 4096, batch: 1_048_576 });
  assert.deepEqual(resolveCollectorConfig({ maxBodyBytes: 2_000_000 }).maxBodyBytes, { event: 16_384, batch: 2_000_000 });
  assert.deepEqual(resolveCollectorConfig({ maxBodyBytes: 8_000 }).maxBodyBytes, { event: 8_000, batch: 8_000 });
});
