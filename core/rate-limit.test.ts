import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createLocalRateLimiter, retryAfterSeconds, takeTokens, type BucketState } from './rate-limit.ts';
import { manualClock } from '../tests/support/fakes/clock.ts';

describe('takeTokens', () => {
  test('a new bucket holds the burst; then refills at the rate', () => {
    let s: BucketState | undefined;
    let r;
    for (let i = 0; i < 20; i++) {
      r = takeTokens(s, 0, 1, 10, 20);
      assert.ok(r.allowed, `request ${i}`);
      s = r.state;
    }
    r = takeTokens(s, 0, 1, 10, 20);
    assert.equal(r.allowed, false);
    assert.equal(r.retryAfterMs, 100);
    r = takeTokens(r.state, 100, 1, 10, 20);
    assert.ok(r.allowed);
  });

  test('a cost above the burst passes on a full bucket and leaves a debt repaid at the rate', () => {
    let r = takeTokens(undefined, 0, 500, 100, 200);
    assert.ok(r.allowed);
    assert.equal(r.state.tokens, -300);
    r = takeTokens(r.state, 1_000, 1, 100, 200);
    assert.equal(r.allowed, false);
    assert.equal(r.retryAfterMs, 2_010);
    r = takeTokens(r.state, 3_010, 1, 100, 200);
    assert.ok(r.allowed);
  });

  test('a clock going back mints no tokens', () => {
    const r = takeTokens({ tokens: 0, at: 10_000 }, 0, 1, 10, 20);
    assert.equal(r.allowed, false);
  });

  test('a non-positive rate means no limit', () => {
    assert.ok(takeTokens({ tokens: 0, at: 0 }, 0, 1_000, 0, 0).allowed);
  });

  test('property: over any window, allowed cost ≤ burst + rate × elapsed + one over-burst request', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.array(fc.record({ dt: fc.integer({ min: 0, max: 500 }), cost: fc.integer({ min: 1, max: 50 }) }), { maxLength: 200 }),
        (rate, reqs) => {
          const burst = rate * 2;
          let s: BucketState | undefined;
          let t = 0;
          let taken = 0;
          for (const { dt, cost } of reqs) {
            t += dt;
            const r = takeTokens(s, t, cost, rate, burst);
            s = r.state;
            if (r.allowed) taken += cost;
            else assert.ok(r.retryAfterMs > 0);
          }
          return taken <= burst + (rate * t) / 1000 + 50 + 1e-9;
        },
      ),
    );
  });
});

describe('createLocalRateLimiter', () => {
  test('one bucket per key', async () => {
    let t = Date.UTC(2026, 5, 15, 12, 0, 0);
    const clock = { now: () => t, advance: (ms: number) => void (t += ms) };
    const rl = createLocalRateLimiter({ now: clock.now });
    assert.ok((await rl.take('a', 2, 1, 2)).allowed);
    const denied = await rl.take('a', 1, 1, 2);
    assert.equal(denied.allowed, false);
    assert.equal(denied.retryAfterMs, 1_000);
    assert.ok((await rl.take('b', 1, 1, 2)).allowed);
    clock.advance(1_000);
    assert.ok((await rl.take('a', 1, 1, 2)).allowed);
  });

  test('bounded: the least recently used bucket is dropped', async () => {
    const rl = createLocalRateLimiter({ maxKeys: 2, now: () => 0 });
    await rl.take('a', 2, 1, 2);
    await rl.take('b', 2, 1, 2);
    await rl.take('c', 2, 1, 2); // evicts a
    assert.ok((await rl.take('a', 2, 1, 2)).allowed, 'a starts over with a full bucket');
    assert.equal((await rl.take('c', 1, 1, 2)).allowed, false);
  });
});

test('retryAfterSeconds rounds up to whole seconds, at least 1', () => {
  assert.equal(retryAfterSeconds(1), 1);
  assert.equal(retryAfterSeconds(1_000), 1);
  assert.equal(retryAfterSeconds(1_001), 2);
  assert.equal(retryAfterSeconds(0), 1);
});
