/**
 * Contract of the EmbedSecretRegistry part of the Registry (SQLite, MongoDB): per-tenant secrets
 * for dashboard embed tokens, initialised once and rotated with a rising generation.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Registry } from '../../core/ports/index.ts';
import { unique, type Harness } from './fixtures.ts';

export function embedSecretsContract(name: string, make: () => Promise<Harness<Registry>>): void {
  describe(name, () => {
    let registry: Registry;
    let harness: Harness<Registry>;
    before(async () => {
      harness = await make();
      registry = harness.port;
    });
    after(async () => harness.cleanup());

    const newTenant = () =>
      registry.createTenant({ id: unique('tenant'), name: 'Acme', status: 'active', rateLimitPerSec: 50, monthlyEventCap: null, retentionDays: 395 });

    test('init stores generation 1 once; a second init keeps the first secret', async () => {
      const t = await newTenant();
      assert.equal(await registry.getEmbedSecret(t.id), undefined);
      const first = await registry.initEmbedSecret(t.id, 'secret-one');
      assert.equal(first.tenantId, t.id);
      assert.equal(first.secret, 'secret-one');
      assert.equal(first.generation, 1);
      const again = await registry.initEmbedSecret(t.id, 'secret-two');
      assert.deepEqual(again, first);
      assert.deepEqual(await registry.getEmbedSecret(t.id), first);
    });

    test('concurrent inits agree on one secret', async () => {
      const t = await newTenant();
      const all = await Promise.all(['a', 'b', 'c', 'd'].map((s) => registry.initEmbedSecret(t.id, `secret-${s}`)));
      assert.equal(new Set(all.map((s) => s.secret)).size, 1);
      assert.equal((await registry.getEmbedSecret(t.id))!.secret, all[0].secret);
    });

    test('rotate replaces the secret and raises the generation; tenants are independent', async () => {
      const t = await newTenant();
      const other = await newTenant();
      await registry.initEmbedSecret(t.id, 's1');
      await registry.initEmbedSecret(other.id, 'o1');
      const r2 = await registry.rotateEmbedSecret(t.id, 's2');
      assert.equal(r2.secret, 's2');
      assert.equal(r2.generation, 2);
      const r3 = await registry.rotateEmbedSecret(t.id, 's3');
      assert.equal(r3.generation, 3);
      assert.deepEqual(await registry.getEmbedSecret(t.id), r3);
      assert.equal((await registry.getEmbedSecret(other.id))!.secret, 'o1');
      assert.equal((await registry.getEmbedSecret(other.id))!.generation, 1);
    });

    test('rotate without a secret yet starts at generation 1', async () => {
      const t = await newTenant();
      const r = await registry.rotateEmbedSecret(t.id, 'fresh');
      assert.equal(r.generation, 1);
      assert.equal(r.secret, 'fresh');
    });

    test('an unknown tenant is refused', async () => {
      await assert.rejects(registry.initEmbedSecret(unique('no-tenant'), 'x'), /Unknown tenant/);
      await assert.rejects(registry.rotateEmbedSecret(unique('no-tenant'), 'x'), /Unknown tenant/);
    });
  });
}
