import { test } from 'node:test';
import assert from 'node:assert/strict';
import { changeDirection, formatAsOf, formatChange, formatValue, isHexColour } from './format.ts';

test('figures are written in the units the stats API uses', () => {
  assert.equal(formatValue('visitors', 12345), '12,345');
  assert.equal(formatValue('bounce_rate', 42), '42%');
  assert.equal(formatValue('visit_duration', 125), '2m 05s');
  assert.equal(formatValue('visit_duration', 9), '9s');
  assert.equal(formatValue('views_per_visit', 3.5), '3.50');
  assert.equal(formatValue('revenue', { EUR: 19.99, USD: 5 }), '19.99 EUR · 5.00 USD');
  assert.equal(formatValue('revenue', {}), '0');
});

test('change against the previous period', () => {
  assert.equal(formatChange(12.5), '+12.5%');
  assert.equal(formatChange(-3), '−3%');
  assert.equal(formatChange(null), '');
  assert.equal(formatChange({ EUR: 10 }), '+10%');
  assert.deepEqual([changeDirection(1), changeDirection(-1), changeDirection(null), changeDirection(0)], ['up', 'down', 'flat', 'flat']);
});

test('data as of: the time in the chosen zone and its age', () => {
  const at = Date.UTC(2026, 10, 27, 14, 0);
  assert.equal(formatAsOf('2026-11-27T13:55:00.000Z', 'Europe/Berlin', at), 'Data as of 27 Nov 2026, 14:55 (5 min ago)');
  assert.equal(formatAsOf(null, 'UTC', at), 'No data received yet');
  assert.ok(isHexColour('#0e7490') && !isHexColour('red') && !isHexColour('#fff'));
});
