/**
 * Contract of the Cache port (in-process LRU, Redis). Keys are unique per test.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Cache } from '../../core/ports/index.ts';
import { unique, waitFor, type Harness } from './fixtures.ts';

export function cacheContract(name: string, make: () => Promise<Harness<Cache>>): void {
  describe(name, () => {
    let cache: Cache;
    let harness: Harness<Cache>;
    before(async () => {
      harness = await make();
      cache = harness.port;
    });
    after(async () => harness.cleanup());

    test('get of a missing key is undefined; set then get returns the value; delete removes it', async () => {
      const key = unique('k');
      assert.equal(await cache.get(key), undefined);
      await cache.set(key, 'v1', 60_000);
      assert.equal(await cache.get(key), 'v1');
      await cache.set(key, 'v2', 60_000);
      assert.equal(await cache.get(key), 'v2');
      await cache.delete(key);
      assert.equal(await cache.get(key), undefined);
      await cache.delete(key); // deleting a missing key is fine
    });

    test('an entry expires after its TTL', async () => {
      const short = unique('short');
      const long = unique('long');
      await cache.set(short, 'x', 50);
      await cache.set(long, 'y', 60_000);
      assert.equal(await cache.get(short), 'x');
      await waitFor('the short entry to expire', async () => (await cache.get(short)) === undefined, 3000);
      assert.equal(await cache.get(long), 'y');
    });

    test('incr creates a counter at 0 and counts up, also under concurrency', async () => {
      const key = unique('n');
      assert.equal(await cache.incr(key), 1);
      assert.equal(await cache.incr(key), 2);
      const results = await Promise.all(Array.from({ length: 50 }, () => cache.incr(key)));
      assert.deepEqual([...results].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i + 3));
      assert.equal(await cache.get(key), '52');
    });

    // Regression: the memory cache gave counters created by incr a TTL of 1 ms, so a site's data
    // version vanished at once and long-cached query answers were never invalidated.
    test('a counter created by incr does not expire', async () => {
      const key = unique('dv');
      await cache.incr(key);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(await cache.get(key), '1');
      assert.equal(await cache.incr(key), 2);
    });

    test('setIfAbsent keeps an existing value and returns it', async () => {
      const key = unique('once');
      assert.equal(await cache.setIfAbsent(key, 'first', 60_000), 'first');
      assert.equal(await cache.setIfAbsent(key, 'second', 60_000), 'first');
      assert.equal(await cache.get(key), 'first');
    });

    test('setIfAbsent after expiry stores the new value', async () => {
      const key = unique('expired');
      await cache.set(key, 'old', 30);
      await waitFor('expiry', async () => (await cache.get(key)) === undefined, 3000);
      assert.equal(await cache.setIfAbsent(key, 'new', 60_000), 'new');
    });

    test('concurrent setIfAbsent: one winner, and everyone gets its value', async () => {
      const key = unique('race');
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => cache.setIfAbsent(key, `candidate-${i}`, 60_000)));
      const winners = new Set(results);
      assert.equal(winners.size, 1);
      const [winner] = winners;
      assert.match(winner, /^candidate-\d+$/);
      assert.equal(await cache.get(key), winner);
    });
  });
}
