import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseQuery, type ParseLimits } from './params.ts';

const limits: ParseLimits = { defaultTimezone: 'UTC', maxRangeDays: 400, maxBreakdownLimit: 1000, defaultBreakdownLimit: 100 };

describe('query parameters', () => {
  test('defaults: 30d, visitors, the default zone, no comparison', () => {
    assert.deepEqual(parseQuery('aggregate', { site_id: 's' }, limits), {
      endpoint: 'aggregate', trackingId: 's', timezone: 'UTC', period: '30d',
      spec: { kind: 'days', count: 30, end: 'today' }, metrics: ['visitors'], compare: null,
    });
  });

  test('metrics are deduplicated into canonical order; zone names are canonicalised', () => {
    const q = parseQuery('timeseries', { site_id: 's', metrics: 'pageviews, visitors,pageviews', timezone: 'europe/berlin' }, limits);
    assert.ok(!('ok' in q) && q.endpoint === 'timeseries');
    assert.deepEqual(q.metrics, ['visitors', 'pageviews']);
    assert.equal(q.timezone, 'Europe/Berlin');
    assert.equal(q.interval, undefined);
  });

  test("breakdown: Plausible's prefixed property names, limit and page", () => {
    const q = parseQuery('breakdown', { site_id: 's', property: 'visit:source', limit: '10', page: '3' }, limits);
    assert.ok(!('ok' in q) && q.endpoint === 'breakdown');
    assert.deepEqual([q.property, q.limit, q.page], ['source', 10, 3]);
    const e = parseQuery('breakdown', { site_id: 's', property: 'event:name' }, limits);
    assert.ok(!('ok' in e) && e.endpoint === 'breakdown' && e.property === 'event' && e.limit === 100);
  });

  test('custom dates, explicit from/to (period=custom allowed alongside)', () => {
    const c = parseQuery('aggregate', { site_id: 's', period: 'custom', date: '2025-01-01,2025-01-31' }, limits);
    assert.ok(!('ok' in c) && c.endpoint === 'aggregate' && c.spec.kind === 'custom');
    const i = parseQuery('aggregate', { site_id: 's', period: 'custom', from: '2025-01-01T00:00:00Z', to: '2025-01-02T00:00:00Z' }, limits);
    assert.ok(!('ok' in i) && i.endpoint === 'aggregate');
    assert.deepEqual(i.spec, { kind: 'instants', from: Date.UTC(2025, 0, 1), to: Date.UTC(2025, 0, 2) });
    assert.equal(i.period, 'from_to');
  });

  test('realtime visitors takes only site_id', () => {
    assert.deepEqual(parseQuery('realtime_visitors', { site_id: 's' }, limits), { endpoint: 'realtime_visitors', trackingId: 's' });
    const r = parseQuery('realtime_visitors', { site_id: 's', period: 'day' }, limits);
    assert.ok('ok' in r && r.detail!.startsWith('period:'));
  });
});
