/**
 * Contract of the Registry port (SQLite, MongoDB). Each test creates its own tenants.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Registry, Tenant, TrackingIdRecord } from '../../core/ports.ts';
import { DAY_MS } from '../../core/time.ts';
import { unique, type Harness } from './fixtures.ts';

const D0 = Date.UTC(2030, 0, 1);

export function registryContract(name: string, make: () => Promise<Harness<Registry>>): void {
  describe(name, () => {
    let registry: Registry;
    let harness: Harness<Registry>;
    before(async () => {
      harness = await make();
      registry = harness.port;
    });
    after(async () => harness.cleanup());

    const newTenant = (extra: Partial<Omit<Tenant, 'createdAt'>> = {}) =>
      registry.createTenant({ id: unique('tenant'), name: 'Acme', status: 'active', rateLimitPerSec: 50, monthlyEventCap: null, retentionDays: 395, ...extra });
    const newTrackingId = (tenantId: string, extra: Partial<Omit<TrackingIdRecord, 'createdAt'>> = {}) =>
      registry.createTrackingId({
        id: unique('tid'), tenantId, name: 'Shop', allowedOrigins: ['https://shop.example', 'https://www.shop.example'],
        serverKey: unique('sk'), status: 'active', respectDnt: true, ...extra,
      });

    test('tenants: create, get, list, update', async () => {
      const before = Date.now();
      const t = await newTenant({ monthlyEventCap: 1_000_000 });
      assert.ok(t.createdAt >= before - 1000 && t.createdAt <= Date.now() + 1000, 'createdAt is now');
      assert.deepEqual(await registry.getTenant(t.id), t);
      assert.equal(await registry.getTenant(unique('no-such-tenant')), undefined);
      assert.ok((await registry.listTenants()).some((x) => x.id === t.id));

      const updated = await registry.updateTenant(t.id, { status: 'suspended', monthlyEventCap: null, rateLimitPerSec: 2.5 });
      assert.deepEqual(updated, { ...t, status: 'suspended', monthlyEventCap: null, rateLimitPerSec: 2.5 });
      assert.deepEqual(await registry.getTenant(t.id), updated);
    });

    test('updating an unknown tenant or tracking ID rejects', async () => {
      await assert.rejects(registry.updateTenant(unique('no-such-tenant'), { name: 'x' }));
      await assert.rejects(registry.updateTrackingId(unique('no-such-tid'), { name: 'x' }));
    });

    test('tracking IDs: create, get, list by tenant, update', async () => {
      const t1 = await newTenant();
      const t2 = await newTenant();
      const a = await newTrackingId(t1.id);
      const b = await newTrackingId(t1.id, { allowedOrigins: ['*'], respectDnt: false, status: 'paused' });
      const c = await newTrackingId(t2.id, { allowedOrigins: [] });
      assert.deepEqual(await registry.getTrackingId(a.id), a);
      assert.deepEqual(await registry.getTrackingId(b.id), b);
      assert.deepEqual(await registry.getTrackingId(c.id), c);
      assert.equal(await registry.getTrackingId(unique('no-such-tid')), undefined);

      const ofT1 = await registry.listTrackingIds(t1.id);
      assert.deepEqual(ofT1.map((x) => x.id).sort(), [a.id, b.id].sort());
      const all = (await registry.listTrackingIds()).map((x) => x.id);
      for (const id of [a.id, b.id, c.id]) assert.ok(all.includes(id));

      const updated = await registry.updateTrackingId(a.id, { allowedOrigins: ['https://new.example'], status: 'revoked', respectDnt: false });
      assert.deepEqual(updated, { ...a, allowedOrigins: ['https://new.example'], status: 'revoked', respectDnt: false });
      assert.deepEqual(await registry.getTrackingId(a.id), updated);
    });

    test('API keys: create, find by hash, list by tenant', async () => {
      const t1 = await newTenant();
      const t2 = await newTenant();
      const k1 = await registry.createApiKey({ id: unique('key'), tenantId: t1.id, name: 'dashboard', keyHash: unique('hash'), scope: 'tenant' });
      const k2 = await registry.createApiKey({ id: unique('key'), tenantId: t2.id, name: 'ops', keyHash: unique('hash'), scope: 'admin' });
      assert.deepEqual(await registry.findApiKeyByHash(k1.keyHash), k1);
      assert.deepEqual(await registry.findApiKeyByHash(k2.keyHash), k2);
      assert.equal(await registry.findApiKeyByHash(unique('no-such-hash')), undefined);
      assert.deepEqual((await registry.listApiKeys(t1.id)).map((k) => k.id), [k1.id]);
      const all = (await registry.listApiKeys()).map((k) => k.id);
      assert.ok(all.includes(k1.id) && all.includes(k2.id));
    });

    test('ingest counts add up per counter and are summed over [fromDay, toDay)', async () => {
      const site = unique('counts');
      await registry.addIngestCounts(site, D0, { accepted: 10, 'rejected:invalid_event': 2 });
      await registry.addIngestCounts(site, D0, { accepted: 5, 'bot:ua': 1 });
      await registry.addIngestCounts(site, D0 + DAY_MS, { accepted: 7 });
      await registry.addIngestCounts(site, D0 + 2 * DAY_MS, { accepted: 100 });
      await registry.addIngestCounts(unique('counts-other'), D0, { accepted: 1000 });

      assert.deepEqual(await registry.ingestCounts(site, D0, D0 + DAY_MS), { accepted: 15, 'rejected:invalid_event': 2, 'bot:ua': 1 });
      assert.deepEqual(await registry.ingestCounts(site, D0, D0 + 2 * DAY_MS), { accepted: 22, 'rejected:invalid_event': 2, 'bot:ua': 1 });
      assert.deepEqual(await registry.ingestCounts(site, D0 + 3 * DAY_MS, D0 + 9 * DAY_MS), {});
    });

    test('concurrent ingest count additions are all kept', async () => {
      const site = unique('counts-race');
      await Promise.all(Array.from({ length: 50 }, () => registry.addIngestCounts(site, D0, { accepted: 1 })));
      assert.deepEqual(await registry.ingestCounts(site, D0, D0 + DAY_MS), { accepted: 50 });
    });
  });
}
