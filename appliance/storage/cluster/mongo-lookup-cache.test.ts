/** The Mongo Registry's lookup cache, without MongoDB or Redis: an in-memory invalidation channel. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLookupCache, type RegistryInvalidation } from './mongo-lookup-cache.ts';

function memoryChannel(): RegistryInvalidation {
  const handlers = new Set<(m: string) => void>();
  return {
    async publish(message) {
      for (const h of handlers) h(message);
    },
    subscribe(onMessage) {
      handlers.add(onMessage);
      return () => void handlers.delete(onMessage);
    },
  };
}

test('a hit is served until its TTL, misses included, and as a copy', async () => {
  let t = 0;
  let loads = 0;
  const cache = createLookupCache({ ttlMs: 1000, maxEntries: 10, now: () => t });
  const load = async () => (loads++, { name: 'shop' });
  const a = await cache.cached('tid', 'site_1', load);
  a!.name = 'changed by the caller';
  assert.deepEqual(await cache.cached('tid', 'site_1', load), { name: 'shop' });
  assert.equal(await cache.cached('tid', 'ghost', async () => (loads++, undefined)), undefined);
  assert.equal(await cache.cached('tid', 'ghost', async () => (loads++, undefined)), undefined);
  assert.equal(loads, 2);
  t = 1000;
  await cache.cached('tid', 'site_1', load);
  assert.equal(loads, 3);
});

test('a change through one node drops the entry on every node', async () => {
  const channel = memoryChannel();
  const [a, b] = [createLookupCache({ ttlMs: 60_000, maxEntries: 10, invalidation: channel, now: () => 0 }), createLookupCache({ ttlMs: 60_000, maxEntries: 10, invalidation: channel, now: () => 0 })];
  let value = 'old';
  await b.cached('key', 'h', async () => value);
  value = 'new';
  await a.invalidate('key', 'h');
  assert.equal(await b.cached('key', 'h', async () => value), 'new');
  a.close();
  b.close();
});

test('a load that started before an invalidation does not store its old value', async () => {
  const cache = createLookupCache({ ttlMs: 60_000, maxEntries: 10, now: () => 0 });
  let release!: () => void;
  const slow = cache.cached('tid', 'x', () => new Promise<string>((r) => (release = () => r('old'))));
  await cache.invalidate('tid', 'x');
  release();
  assert.equal(await slow, 'old');
  assert.equal(await cache.cached('tid', 'x', async () => 'new'), 'new');
});

test('an unreachable channel does not fail the change', async () => {
  const cache = createLookupCache({ ttlMs: 1, maxEntries: 1, now: () => 0, invalidation: { publish: () => Promise.reject(new Error('redis down')), subscribe: () => () => {} } });
  await cache.invalidate('tid', 'x');
});
