/**
 * Contract of the Registry port (SQLite, MongoDB). Each test creates its own tenants.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AdminUser, NodeStatus, Registry, ScalingRegistry, Tenant, TrackingIdRecord, WorkerCounts } from '../../core/ports/index.ts';
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

    // Salts are global (not per tenant), so each test uses days of its own, far from the others'.
    const saltDay = (() => {
      let next = D0 + Math.floor(Math.random() * 10_000) * 100 * DAY_MS;
      return () => (next += 10 * DAY_MS);
    })();

    test('daily salt: created once per day (compare-and-set); later candidates get the stored salt; days differ', async () => {
      const day = saltDay();
      const first = await registry.getOrCreateDailySalt(day, 'aa'.repeat(32));
      assert.equal(first, 'aa'.repeat(32));
      assert.equal(await registry.getOrCreateDailySalt(day, 'bb'.repeat(32)), first);
      assert.equal(await registry.getOrCreateDailySalt(day + DAY_MS, 'cc'.repeat(32)), 'cc'.repeat(32));
      const days = await registry.listDailySaltDays();
      assert.ok(days.includes(day) && days.includes(day + DAY_MS));
    });

    test('daily salt: concurrent candidates, also from another instance (another process), all get one winner', async () => {
      const day = saltDay();
      const other = harness.another ? await harness.another() : registry;
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? other : registry).getOrCreateDailySalt(day, i.toString(16).padStart(2, '0').repeat(32))));
      assert.equal(new Set(results).size, 1, `one salt for the day, got ${new Set(results).size}`);
      assert.equal(await other.getOrCreateDailySalt(day, 'ff'.repeat(32)), results[0]);
    });

    test('daily salt: deleteDailySaltsBefore deletes the days before it, keeps the rest; a deleted day gets a new salt', async () => {
      const day = saltDay();
      for (const d of [day, day + DAY_MS, day + 2 * DAY_MS]) await registry.getOrCreateDailySalt(d, 'dd'.repeat(32));
      const deleted = await registry.deleteDailySaltsBefore(day + 2 * DAY_MS);
      assert.ok(deleted >= 2, `deleted ${deleted}`);
      const days = await registry.listDailySaltDays();
      assert.ok(days.every((d) => d >= day + 2 * DAY_MS), `no day before the cutoff remains: ${days.map((d) => new Date(d).toISOString())}`);
      assert.ok(days.includes(day + 2 * DAY_MS));
      assert.deepEqual(days, [...days].sort((a, b) => a - b), 'ascending');
      assert.equal(await registry.getOrCreateDailySalt(day, 'ee'.repeat(32)), 'ee'.repeat(32));
    });

    test('concurrent ingest count additions are all kept', async () => {
      const site = unique('counts-race');
      await Promise.all(Array.from({ length: 50 }, () => registry.addIngestCounts(site, D0, { accepted: 1 })));
      assert.deepEqual(await registry.ingestCounts(site, D0, D0 + DAY_MS), { accepted: 50 });
    });
  });
}

// ---------------------------------------------------------------- scaling (control plane)

/**
 * Contract of the ScalingRegistry part of the Registry port. `scalable` says whether the
 * profile can run more than one worker of a role (cluster) or only one of each (embedded).
 */
export function scalingRegistryContract(name: string, make: () => Promise<Harness<Registry>>, opts: { scalable: boolean }): void {
  describe(name, () => {
    let scaling: ScalingRegistry;
    let harness: Harness<Registry>;
    before(async () => {
      harness = await make();
      scaling = harness.port;
    });
    after(async () => harness.cleanup());

    const ones: WorkerCounts = { collector: 1, archiver: 1, aggregator: 1, query: 1 };
    const status = (nodeId: string, lastSeenAt: number, extra: Partial<NodeStatus> = {}): NodeStatus => ({
      nodeId, host: 'host-a', pid: 4242, url: 'http://127.0.0.1:8420', startedAt: lastSeenAt - 60_000, lastSeenAt,
      desired: ones,
      workers: [
        { role: 'collector', slot: 0, pid: 5001, state: 'running', restarts: 0, startedAt: lastSeenAt - 50_000, lastExit: null },
        { role: 'aggregator', slot: 0, pid: null, state: 'backoff', restarts: 3, startedAt: null, lastExit: { code: null, signal: 'SIGKILL', at: lastSeenAt - 1000 } },
      ],
      ...extra,
    });

    test('desired scale: undefined until set, then what was set', async () => {
      const node = unique('node');
      assert.equal(await scaling.getDesiredScale(node), undefined);
      await scaling.setDesiredScale(node, ones);
      assert.deepEqual(await scaling.getDesiredScale(node), ones);
      assert.equal(await scaling.getDesiredScale(unique('other-node')), undefined);
    });

    test('desired scale: counts that no node can run are refused with code invalid_scale, and nothing is stored', async () => {
      const node = unique('node');
      const bad: unknown[] = [
        { ...ones, aggregator: -1 },
        { ...ones, archiver: 1.5 },
        { ...ones, query: 99 },
        { ...ones, reporter: 1 },
        { collector: 1, archiver: 1, aggregator: 1 },
        { ...ones, collector: 0, query: 0 },
      ];
      for (const counts of bad) {
        await assert.rejects(scaling.setDesiredScale(node, counts as WorkerCounts), (e: Error & { code?: string }) => {
          assert.equal(e.code, 'invalid_scale', `${JSON.stringify(counts)}: ${e.message}`);
          return true;
        });
      }
      assert.equal(await scaling.getDesiredScale(node), undefined);
    });

    if (opts.scalable) {
      test('desired scale: a later set replaces the counts whole', async () => {
        const node = unique('node');
        await scaling.setDesiredScale(node, { collector: 2, archiver: 1, aggregator: 3, query: 0 });
        assert.deepEqual(await scaling.getDesiredScale(node), { collector: 2, archiver: 1, aggregator: 3, query: 0 });
        await scaling.setDesiredScale(node, { collector: 1, archiver: 0, aggregator: 1, query: 1 });
        assert.deepEqual(await scaling.getDesiredScale(node), { collector: 1, archiver: 0, aggregator: 1, query: 1 });
      });
    } else {
      test('desired scale: more than one archiver or aggregator is refused with a message naming the cluster profile', async () => {
        const node = unique('node');
        for (const counts of [{ ...ones, aggregator: 3 }, { ...ones, archiver: 2 }, { ...ones, collector: 2 }]) {
          await assert.rejects(scaling.setDesiredScale(node, counts), (e: Error & { code?: string }) =>
            e.code === 'invalid_scale' && /embedded profile/.test(e.message) && /cluster profile/.test(e.message));
        }
        assert.equal(await scaling.getDesiredScale(node), undefined);
      });
    }

    test('node reports: listed while fresh, replaced by the next report, left out once older than maxAgeMs', async () => {
      const now = Date.now();
      const a = unique('node-a');
      const b = unique('node-b');
      const stale = unique('node-stale');
      await scaling.reportNode(status(a, now - 1000));
      await scaling.reportNode(status(b, now - 2000, { host: 'host-b', desired: ones }));
      await scaling.reportNode(status(stale, now - 60_000));

      const fresh = (await scaling.listNodes()).filter((n) => [a, b, stale].includes(n.nodeId));
      assert.deepEqual(fresh, [status(a, now - 1000), status(b, now - 2000, { host: 'host-b', desired: ones })].sort((x, y) => (x.nodeId < y.nodeId ? -1 : 1)));
      assert.ok((await scaling.listNodes(120_000)).some((n) => n.nodeId === stale), 'a longer maxAgeMs includes the older report');

      const next = status(a, now, { workers: [] });
      await scaling.reportNode(next);
      assert.deepEqual((await scaling.listNodes()).find((n) => n.nodeId === a), next);
    });
  });
}

// ---------------------------------------------------------------- admin users, sessions, audit

/** Contract of the AdminRegistry part of the Registry (admin API): users, sessions, audit log, tenant deletion. */
export function adminRegistryContract(name: string, make: () => Promise<Harness<Registry>>): void {
  describe(name, () => {
    let registry: Registry;
    let harness: Harness<Registry>;
    before(async () => {
      harness = await make();
      registry = harness.port;
    });
    after(async () => harness.cleanup());

    const newUser = (extra: Partial<Omit<AdminUser, 'createdAt' | 'updatedAt'>> = {}) =>
      registry.createAdminUser({ id: unique('usr'), username: unique('Alice'), role: 'admin', passwordHash: 'scrypt$x', disabled: false, ...extra });

    test('admin users: create, get, find by name ignoring case, list, update; a taken name is refused', async () => {
      const u = await newUser({ username: unique('Carol') });
      assert.deepEqual(await registry.getAdminUser(u.id), u);
      assert.deepEqual(await registry.findAdminUserByUsername(u.username.toUpperCase()), u);
      assert.equal(await registry.findAdminUserByUsername(unique('nobody')), undefined);
      assert.ok((await registry.listAdminUsers()).some((x) => x.id === u.id));
      await assert.rejects(newUser({ username: u.username.toLowerCase() }), /already exists/);

      const updated = await registry.updateAdminUser(u.id, { role: 'viewer', disabled: true });
      assert.equal(updated.role, 'viewer');
      assert.equal(updated.disabled, true);
      assert.equal(updated.passwordHash, u.passwordHash, 'fields not in the patch are kept');
      assert.deepEqual(await registry.getAdminUser(u.id), updated);
      await assert.rejects(registry.updateAdminUser(unique('usr'), { role: 'owner' }), /Unknown admin user/);
    });

    test('sessions: create, get, extend (never shortens), delete one, delete all of a user', async () => {
      const u = await newUser();
      const t = Date.now();
      const a = { tokenHash: unique('hash'), userId: u.id, createdAt: t, expiresAt: t + 60_000 };
      const b = { tokenHash: unique('hash'), userId: u.id, createdAt: t, expiresAt: t + 60_000 };
      await registry.createAdminSession(a);
      await registry.createAdminSession(b);
      assert.deepEqual(await registry.getAdminSession(a.tokenHash), a);
      await registry.extendAdminSession(a.tokenHash, t + 120_000);
      assert.equal((await registry.getAdminSession(a.tokenHash))?.expiresAt, t + 120_000);
      await registry.extendAdminSession(a.tokenHash, t + 1_000);
      assert.equal((await registry.getAdminSession(a.tokenHash))?.expiresAt, t + 120_000);
      await registry.deleteAdminSession(a.tokenHash);
      assert.equal(await registry.getAdminSession(a.tokenHash), undefined);
      assert.equal(await registry.deleteAdminSessionsOf(u.id), 1);
      assert.equal(await registry.getAdminSession(b.tokenHash), undefined);
    });

    test('audit log: newest first, filters, paging by ID, JSON before/after kept', async () => {
      const target = unique('tenant:t');
      const base = Date.now();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const id = (base + i).toString(36).padStart(9, '0') + unique('x').replace(/\W/g, '');
        ids.push(id);
        await registry.appendAudit({ id, at: base + i, actor: 'user:u1', actorName: 'alice', action: i % 2 ? 'tenants.suspend' : 'tenants.resume', target, before: { n: i, list: [1, 'a'] }, after: null });
      }
      const all = await registry.listAudit({ target });
      assert.deepEqual(all.map((e) => e.id), [...ids].reverse());
      assert.deepEqual(all[0].before, { n: 4, list: [1, 'a'] });
      assert.equal(all[0].after, null);
      assert.deepEqual((await registry.listAudit({ target, action: 'tenants.suspend' })).map((e) => e.before), [{ n: 3, list: [1, 'a'] }, { n: 1, list: [1, 'a'] }]);
      const page1 = await registry.listAudit({ target, limit: 2 });
      const page2 = await registry.listAudit({ target, limit: 2, beforeId: page1[1].id });
      assert.deepEqual([...page1, ...page2].map((e) => e.id), [...ids].reverse().slice(0, 4));
    });

    test('deleteTenantRecords: the tenant, its tracking IDs, API keys and ingest counters go; others stay', async () => {
      const mk = (id: string) => registry.createTenant({ id, name: 'Doomed', status: 'active', rateLimitPerSec: 10, monthlyEventCap: null, retentionDays: 30 });
      const doomed = await mk(unique('tenant'));
      const kept = await mk(unique('tenant'));
      const site = (tenantId: string) => registry.createTrackingId({ id: unique('tid'), tenantId, name: 'S', allowedOrigins: ['*'], serverKey: unique('sk'), status: 'active', respectDnt: false });
      const [d1, d2, k1] = [await site(doomed.id), await site(doomed.id), await site(kept.id)];
      await registry.createApiKey({ id: unique('key'), tenantId: doomed.id, name: 'k', keyHash: unique('h'), scope: 'tenant' });
      const keptKey = await registry.createApiKey({ id: unique('key'), tenantId: kept.id, name: 'k', keyHash: unique('h'), scope: 'tenant' });
      await registry.addIngestCounts(d1.id, D0, { accepted: 3 });
      await registry.addIngestCounts(k1.id, D0, { accepted: 4 });

      assert.deepEqual((await registry.deleteTenantRecords(doomed.id)).sort(), [d1.id, d2.id].sort());
      assert.equal(await registry.getTenant(doomed.id), undefined);
      assert.deepEqual(await registry.listTrackingIds(doomed.id), []);
      assert.deepEqual(await registry.listApiKeys(doomed.id), []);
      assert.deepEqual(await registry.ingestCounts(d1.id, D0, D0 + DAY_MS), {});
      assert.ok(await registry.getTenant(kept.id));
      assert.deepEqual((await registry.listTrackingIds(kept.id)).map((t) => t.id), [k1.id]);
      assert.deepEqual((await registry.listApiKeys(kept.id)).map((k) => k.id), [keptKey.id]);
      assert.deepEqual(await registry.ingestCounts(k1.id, D0, D0 + DAY_MS), { accepted: 4 });
    });
  });
}
