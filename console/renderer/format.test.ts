import { test } from 'node:test';
import assert from 'node:assert/strict';
import { changedFields, formatCount, formatDuration, formatRate, percent, utcDay } from './format.ts';
import { hrefFor, parseRoute } from './route.ts';

test('percent is a whole number clamped to 0..100, and 0 for an empty total', () => {
  assert.deepEqual([percent(0, 10), percent(3, 10), percent(2, 3), percent(10, 10), percent(12, 10), percent(5, 0)], [0, 30, 66, 100, 100, 0]);
});

test('durations, rates and counts read naturally; missing values show a dash', () => {
  assert.deepEqual([formatDuration(250), formatDuration(1234), formatDuration(90_000), formatDuration(7_260_000), formatDuration(null)], ['250 ms', '1.2 s', '1 min 30 s', '2 h 1 min', '—']);
  assert.deepEqual([formatRate(3.14159), formatRate(1234.6), formatRate(undefined)], ['3.1/s', '1,235/s', '—']);
  assert.deepEqual([formatCount(1234567), formatCount(Number.NaN)], ['1,234,567', '—']);
  assert.equal(utcDay(Date.UTC(2026, 0, 1, 23, 0), -1), '2025-12-31');
});

test('audit changes list only the fields that differ; creations show the whole value', () => {
  assert.deepEqual(changedFields({ name: 'A', status: 'active', n: 1 }, { name: 'A', status: 'suspended', n: 1 }), [{ key: 'status', before: '"active"', after: '"suspended"' }]);
  assert.deepEqual(changedFields(null, { id: 't_1' }), [{ key: '(value)', before: 'null', after: '{"id":"t_1"}' }]);
  assert.deepEqual(changedFields(null, null), []);
});

test('hash routes: known screens with their params; anything else is the overview', () => {
  const r = parseRoute('#/tracking-ids?tenant=t_1');
  assert.equal(r.screen, 'tracking-ids');
  assert.equal(r.params.get('tenant'), 't_1');
  assert.equal(parseRoute('#/nope').screen, 'overview');
  assert.equal(parseRoute('').screen, 'overview');
  assert.equal(hrefFor('tracking-ids', { tenant: 't 1' }), '#/tracking-ids?tenant=t+1');
});
