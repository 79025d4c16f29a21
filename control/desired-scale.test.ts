import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertDesiredScale } from './desired-scale.ts';
import { ControlError, httpStatus } from './errors.ts';

const ones = { collector: 1, archiver: 1, aggregator: 1, query: 1 };

test('assertDesiredScale throws a ControlError invalid_scale (HTTP 400)', () => {
  assert.throws(() => assertDesiredScale({ ...ones, archiver: 2 }, 'embedded'), (e: unknown) =>
    e instanceof ControlError && e.code === 'invalid_scale' && httpStatus(e.code) === 400);
  assert.doesNotThrow(() => assertDesiredScale(ones, 'embedded'));
});
