import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rejectsWith, startAdminApiHarness, type AdminApiHarness } from '../../tests/support/admin-api.ts';
import { makeEvent } from '../../tests/contract/fixtures.ts';
import { describeThroughput } from './throughput.ts';

describe('admin API: replays', () => {
  let h: AdminApiHarness;
  let owner: string;
  let viewer: string;
  before(async () => {
    h = await startAdminApiHarness();
    owner = await h.signIn('admin', h.ownerPassword);
    viewer = (await h.userWithRole('viewer')).token;
  });
  after(async () => h.close());

  test('start (dry run, source), list, get, cancel; progress ends when the job does; replay errors keep their codes', async () => {
    const t = await h.as(owner).tenants.create({ name: 'Replayed' });
    const site = await h.as(owner).trackingIds.create({ tenantId: t.id, name: 'S', allowedOrigins: ['*'] });
    const job = await h.as(owner).replays.start({ tenantId: t.id, from: '2026-11-20', to: '2026-11-21', dryRun: true, source: 'archive' });
    assert.deepEqual([job.status, job.dryRun, job.source, job.days, job.trackingIds], ['queued', true, 'archive', 2, [site.id]]);
    assert.ok((await h.as(viewer).replays.list()).some((j) => j.id === job.id));
    assert.equal((await h.as(viewer).replays.get({ id: job.id })).id, job.id);

    const views = [];
    const stream = await h.as(viewer).replays.progress({ id: job.id });
    const cancelled = await h.as(owner).replays.cancel({ id: job.id });
    assert.equal(cancelled.status, 'cancelled');
    for await (const v of stream) views.push(v.status);
    assert.equal(views.at(-1), 'cancelled', 'the subscription ends with the finished job');

    await rejectsWith(h.as(owner).replays.cancel({ id: job.id }), 'not_cancellable', 'CONFLICT');
    await rejectsWith(h.as(viewer).replays.get({ id: 'rp_nope' }), 'not_found', 'NOT_FOUND');
    await rejectsWith(h.as(owner).replays.start({ trackingIds: [site.id], from: '2026-11-21', to: '2026-11-20' }), 'invalid_range', 'BAD_REQUEST');
    await rejectsWith(h.as(owner).replays.start({ trackingIds: ['AL-NOPE'], from: '2026-11-20', to: '2026-11-20' }), 'unknown_tracking_id', 'NOT_FOUND');
    const actions = (await h.as(viewer).audit.list({ target: `replay:${job.id}` })).entries.map((e) => e.action);
    assert.deepEqual(actions, ['replays.cancel', 'replays.start']);
  });
});

describe('admin API: scaling, event log, health', () => {
  let h: AdminApiHarness;
  let owner: string;
  let viewer: string;
  before(async () => {
    h = await startAdminApiHarness();
    owner = await h.signIn('admin', h.ownerPassword);
    viewer = (await h.userWithRole('viewer')).token;
  });
  after(async () => h.close());

  test('scaling: nodes and desired counts go through the scaling registry, audited', async () => {
    const registry = h.storage.registry;
    const status = { nodeId: 'node-a', host: 'h', pid: 1, url: 'http://127.0.0.1:1', startedAt: h.clock.now, lastSeenAt: Date.now(), desired: { collector: 1, archiver: 1, aggregator: 1, query: 1 }, workers: [] };
    await registry.reportNode(status);
    assert.deepEqual((await h.as(viewer).scaling.nodes()).map((n) => n.nodeId), ['node-a']);
    const counts = { collector: 1, archiver: 1, aggregator: 1, query: 1 };
    assert.deepEqual(await h.as(owner).scaling.setDesired({ nodeId: 'node-a', counts }), { nodeId: 'node-a', desired: counts });
    assert.deepEqual(await registry.getDesiredScale('node-a'), counts);
    await assert.rejects(h.as(owner).scaling.setDesired({ nodeId: 'node-a', counts: { ...counts, aggregator: -1 } }), /BAD_REQUEST|greater than or equal/i);
    const refused = await rejectsWith(h.as(owner).scaling.setDesired({ nodeId: 'node-a', counts: { ...counts, aggregator: 2 } }), 'invalid_scale', 'BAD_REQUEST');
    assert.ok(refused.message.length > 20, 'the registry says why (embedded: one worker of each role)');
    const [entry] = (await h.as(viewer).audit.list({ action: 'scaling.setDesired' })).entries;
    assert.deepEqual(entry.after, counts);
  });

  test('event log: partitions, lag per group and partition, events/s in and out from two samples', async () => {
    const events = Array.from({ length: 40 }, (_, i) => makeEvent({ trackingId: `site-${i % 5}` }));
    await h.storage.eventLog.append(events);
    const view = await h.as(viewer).scaling.log();
    assert.equal(view.partitions, 4);
    assert.equal(view.endOffsets.reduce((a, b) => a + b, 0), 40);
    assert.deepEqual(view.groups.map((g) => g.group).sort(), ['almanac-aggregator', 'almanac-archiver']);
    for (const g of view.groups) {
      assert.equal(g.totalLag, 40, 'nothing consumed yet');
      assert.deepEqual(g.partitions.map((p) => p.lag), view.endOffsets);
    }
    // The rates, pure: 300 appended and 120 committed by one group over 2 s.
    const older = { at: 0, end: [100, 100], committed: { g: [50, 50] } };
    const newer = { at: 2000, end: [250, 250], committed: { g: [110, 110] } };
    const r = describeThroughput(2, older, newer);
    assert.equal(r.eventsPerSecIn, 150);
    assert.equal(r.groups[0].eventsPerSecOut, 60);
    assert.equal(r.groups[0].totalLag, 280);
    assert.equal(describeThroughput(2, newer, newer).eventsPerSecIn, 0, 'no interval, no rate');
  });

  test('health: services with latency, freshness per tracking ID (aggregator in process, or rollups), error rates', async () => {
    const services = await h.as(viewer).health.services();
    assert.equal(services.length, 1);
    assert.equal(services[0].name, 'sqlite');
    assert.equal(services[0].up, true);
    assert.ok(services[0].latencyMs >= 0 && services[0].latencyMs < 2000);

    const t = await h.as(owner).tenants.create({ name: 'Fresh' });
    const site = await h.as(owner).trackingIds.create({ tenantId: t.id, name: 'S', allowedOrigins: ['*'] });
    const newest = h.clock.now - 90_000;
    const inProcess = await startAdminApiHarness({ newestEventTs: () => ({ [site.id]: newest }), registry: h.storage.registry, ping: async () => ({ sqlite: false }) });
    try {
      const token = await h.signIn('admin', h.ownerPassword);
      const other = await h.as(owner).trackingIds.create({ tenantId: t.id, name: 'Quiet', allowedOrigins: ['*'] });
      const rows = await inProcess.as(token).health.freshness({ tenantId: t.id });
      const row = rows.find((r) => r.trackingId === site.id)!;
      assert.deepEqual([row.ageMs, row.source], [90_000, 'aggregator']);
      const quiet = rows.find((r) => r.trackingId === other.id)!;
      assert.deepEqual([quiet.ageMs, quiet.source], [null, 'rollups'], 'not aggregated since start: read from the rollups (empty here)');
      const [sqlite] = await inProcess.as(token).health.services();
      assert.equal(sqlite.up, false, 'down when the /healthz check says so');
    } finally {
      await inProcess.close();
    }

    const minute = Math.floor((h.clock.now - 5 * 60_000) / 60_000) * 60_000;
    const rollups = { ...h.storage.rollups, readTotals: async (id: string) => (id === site.id ? [{ start: minute - 60_000 }, { start: minute }] : []) } as unknown as typeof h.storage.rollups;
    const cluster = await startAdminApiHarness({ registry: h.storage.registry, rollups, profile: 'cluster' });
    try {
      const token = await h.signIn('admin', h.ownerPassword);
      const row = (await cluster.as(token).health.freshness({ tenantId: t.id }))[0];
      assert.deepEqual([row.newestEventTs, row.ageMs, row.source], [minute, h.clock.now - minute, 'rollups']);
      const names = (await cluster.as(token).health.services()).map((s) => s.name).sort();
      assert.deepEqual(names, ['cassandra', 'kafka', 'mongodb', 'redis']);
    } finally {
      await cluster.close();
    }
  });

  test('audit.list pages newest first with a cursor and filters by action', async () => {
    for (let i = 0; i < 5; i++) await h.as(owner).tenants.create({ name: `Paged ${i}` });
    const page1 = await h.as(viewer).audit.list({ action: 'tenants.create', limit: 3 });
    assert.equal(page1.entries.length, 3);
    assert.ok(page1.nextCursor);
    const page2 = await h.as(viewer).audit.list({ action: 'tenants.create', limit: 3, cursor: page1.nextCursor });
    const names = [...page1.entries, ...page2.entries].map((e) => (e.after as { name: string }).name);
    assert.deepEqual(names.slice(0, 5), ['Paged 4', 'Paged 3', 'Paged 2', 'Paged 1', 'Paged 0']);
    assert.ok(page1.entries.every((e) => e.actorName === 'admin' && e.at === h.clock.now));
  });
});
