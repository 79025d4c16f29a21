import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DAY_MS } from '../core/time.ts';
import { createIngestCounters } from './counters.ts';
import { aRegistry } from '../tests/support/collector-fixtures.ts';
import { manualClock } from '../tests/support/fakes/clock.ts';

describe('IngestCounters', () => {
  test('counts per tracking ID and UTC day; flush adds them to the registry once', async () => {
    const clock = manualClock();
    const registry = aRegistry();
    const c = createIngestCounters({ registry, now: clock.now });
    c.add('site_1', 'accepted', 3);
    c.add('site_1', 'rejected:invalid_event');
    c.add('site_1', 'bot:ua_pattern', 2);
    c.add(null, 'rejected:malformed_json');
    await c.flush();
    assert.deepEqual(registry.ingestCalls, [{ trackingId: 'site_1', day: Math.floor(clock.now() / DAY_MS) * DAY_MS, counts: { accepted: 3, 'rejected:invalid_event': 1, 'bot:ua_pattern': 2 } }]);
    await c.flush();
    assert.equal(registry.ingestCalls.length, 1, 'nothing pending, nothing written');
    assert.deepEqual(c.snapshot(), { site_1: { accepted: 3, 'rejected:invalid_event': 1, 'bot:ua_pattern': 2 }, '': { 'rejected:malformed_json': 1 } });
  });

  test('counts across midnight go to their own day', async () => {
    const clock = manualClock(Date.UTC(2026, 0, 1, 23, 59));
    const registry = aRegistry();
    const c = createIngestCounters({ registry, now: clock.now });
    c.add('site_1', 'accepted');
    clock.advance(120_000);
    c.add('site_1', 'accepted');
    await c.flush();
    assert.deepEqual(registry.ingestCalls.map((x) => x.day), [Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 2)]);
  });

  test('a failed flush keeps the counts for the next one', async () => {
    const registry = aRegistry();
    const errors: unknown[] = [];
    const c = createIngestCounters({ registry, onFlushError: (e) => errors.push(e) });
    c.add('site_1', 'accepted', 2);
    registry.failIngestCounts = true;
    await c.flush();
    assert.equal(errors.length, 1);
    c.add('site_1', 'accepted', 1);
    registry.failIngestCounts = false;
    await c.flush();
    assert.deepEqual(registry.countsOf('site_1'), { accepted: 3 });
  });

  test('stop flushes what is pending', async () => {
    const registry = aRegistry();
    const c = createIngestCounters({ registry });
    c.start(60_000);
    c.add('site_1', 'accepted');
    await c.stop();
    assert.deepEqual(registry.countsOf('site_1'), { accepted: 1 });
  });

  test('the timer flushes periodically', async () => {
    const registry = aRegistry();
    const c = createIngestCounters({ registry });
    c.start(10);
    c.add('site_1', 'accepted');
    await new Promise((r) => setTimeout(r, 40));
    assert.deepEqual(registry.countsOf('site_1'), { accepted: 1 });
    await c.stop();
  });
});
