import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rejectsWith, startAdminApiHarness, type AdminApiHarness } from '../../tests/support/admin-api.ts';
import { makeEvent } from '../../tests/contract/fixtures.ts';
import { DAY_MS, dayOf } from '../../core/time.ts';

describe('admin API: tenants and tracking IDs', () => {
  let h: AdminApiHarness;
  let owner: string;
  let viewer: string;
  before(async () => {
    h = await startAdminApiHarness();
    owner = await h.signIn('admin', h.ownerPassword);
    viewer = (await h.userWithRole('viewer')).token;
  });
  after(async () => h.close());

  test('tenants: create, list with usage today and this month, quotas, suspend and resume, each audited', async () => {
    const t = await h.as(owner).tenants.create({ name: 'Acme', rateLimitPerSec: 50, retentionDays: 90 });
    assert.deepEqual({ name: t.name, status: t.status, rate: t.rateLimitPerSec, days: t.retentionDays, cap: t.monthlyEventCap }, { name: 'Acme', status: 'active', rate: 50, days: 90, cap: null });
    await assert.rejects(h.as(owner).tenants.create({ name: '  ' }), /BAD_REQUEST|too_small|at least/i);
    const [a, b] = [await h.as(owner).trackingIds.create({ tenantId: t.id, name: 'Shop', allowedOrigins: ['https://shop.example'] }), await h.as(owner).trackingIds.create({ tenantId: t.id, name: 'Blog', allowedOrigins: ['*'] })];
    const today = dayOf(h.clock.now);
    const monthStart = Date.UTC(2026, 10, 1);
    await h.storage.registry.addIngestCounts(a.id, today, { accepted: 10, 'rejected:origin_not_allowed': 3 });
    await h.storage.registry.addIngestCounts(b.id, today, { accepted: 5 });
    await h.storage.registry.addIngestCounts(a.id, monthStart, { accepted: 100 });
    await h.storage.registry.addIngestCounts(a.id, monthStart - DAY_MS, { accepted: 1000 }); // last month: not counted
    const listed = (await h.as(viewer).tenants.list()).find((x) => x.id === t.id)!;
    assert.deepEqual(listed.usage, { eventsToday: 15, eventsThisMonth: 115 });
    assert.equal(listed.trackingIdCount, 2);

    const updated = await h.as(owner).tenants.updateQuotas({ id: t.id, rateLimitPerSec: 5, monthlyEventCap: 1_000_000 });
    assert.deepEqual([updated.rateLimitPerSec, updated.monthlyEventCap, updated.retentionDays], [5, 1_000_000, 90]);
    assert.equal((await h.as(owner).tenants.updateQuotas({ id: t.id, monthlyEventCap: null })).monthlyEventCap, null);
    await assert.rejects(h.as(owner).tenants.updateQuotas({ id: t.id, rateLimitPerSec: -1 }), /BAD_REQUEST|greater than 0/i);
    assert.equal((await h.as(owner).tenants.suspend({ id: t.id })).status, 'suspended');
    assert.equal((await h.storage.registry.getTenant(t.id))?.status, 'suspended', 'collectors read this status and refuse ingest (tenant_suspended)');
    assert.equal((await h.as(owner).tenants.resume({ id: t.id })).status, 'active');
    await rejectsWith(h.as(owner).tenants.suspend({ id: 'tn_nope' }), 'not_found', 'NOT_FOUND');

    const entries = (await h.as(viewer).audit.list({ target: `tenant:${t.id}` })).entries.reverse();
    assert.deepEqual(entries.map((e) => e.action), ['tenants.create', 'tenants.updateQuotas', 'tenants.updateQuotas', 'tenants.suspend', 'tenants.resume']);
    assert.deepEqual([(entries[1].before as { rateLimitPerSec: number }).rateLimitPerSec, (entries[1].after as { rateLimitPerSec: number }).rateLimitPerSec], [50, 5]);
    assert.equal(entries[3].actorName, 'admin');
  });

  test('tracking IDs: create with snippet, get, viewers do not see the server key, rotate, pause/resume, revoke for good', async () => {
    const t = await h.as(owner).tenants.create({ name: 'Sites' });
    const site = await h.as(owner).trackingIds.create({ tenantId: t.id, name: 'Shop', allowedOrigins: ['https://shop.example/path', 'https://www.shop.example'], respectDnt: true });
    assert.deepEqual(site.allowedOrigins, ['https://shop.example', 'https://www.shop.example']);
    assert.match(site.snippet, new RegExp(site.id));
    assert.match(site.snippet, /almanac\.example/);
    await rejectsWith(h.as(owner).trackingIds.create({ tenantId: 'tn_nope', name: 'x', allowedOrigins: ['*'] }), 'not_found');
    await rejectsWith(h.as(owner).trackingIds.create({ tenantId: t.id, name: 'x', allowedOrigins: ['ftp://x'] }), 'invalid_request');

    const got = await h.as(owner).trackingIds.get({ id: site.id });
    assert.equal(got.serverKey, site.serverKey);
    assert.match(got.snippet, new RegExp(site.id));
    assert.equal((await h.as(viewer).trackingIds.get({ id: site.id })).serverKey, null);
    assert.ok((await h.as(viewer).trackingIds.list({ tenantId: t.id })).every((r) => r.serverKey === null));

    const rotated = await h.as(owner).trackingIds.rotateServerKey({ id: site.id });
    assert.notEqual(rotated.serverKey, site.serverKey);
    assert.equal((await h.storage.registry.getTrackingId(site.id))?.serverKey, rotated.serverKey);
    assert.equal((await h.as(owner).trackingIds.pause({ id: site.id })).status, 'paused');
    assert.equal((await h.as(owner).trackingIds.resume({ id: site.id })).status, 'active');
    assert.equal((await h.as(owner).trackingIds.revoke({ id: site.id })).status, 'revoked');
    await rejectsWith(h.as(owner).trackingIds.resume({ id: site.id }), 'conflict', 'CONFLICT');

    const [rotation] = (await h.as(owner).audit.list({ target: `trackingId:${site.id}`, action: 'trackingIds.rotateServerKey' })).entries;
    assert.equal((rotation.before as { serverKey: string }).serverKey, '(secret)', 'secrets never reach the audit log');
  });

  test('tracking IDs: counts of accepted, rejected by reason and bot-dropped, over days', async () => {
    const t = await h.as(owner).tenants.create({ name: 'Counted' });
    const site = await h.as(owner).trackingIds.create({ tenantId: t.id, name: 'Shop', allowedOrigins: ['*'] });
    const today = dayOf(h.clock.now);
    await h.storage.registry.addIngestCounts(site.id, today, { accepted: 7, 'rejected:origin_not_allowed': 2, 'rejected:rate_limited': 1, 'bot:user_agent': 4, duplicate: 1 });
    await h.storage.registry.addIngestCounts(site.id, today - DAY_MS, { accepted: 3, 'bot:user_agent': 1 });
    const c1 = await h.as(viewer).trackingIds.counts({ id: site.id });
    assert.deepEqual({ ...c1, trackingId: undefined, from: undefined, to: undefined }, {
      trackingId: undefined, from: undefined, to: undefined,
      accepted: 7, rejected: { origin_not_allowed: 2, rate_limited: 1 }, botDropped: { user_agent: 4 }, duplicate: 1, rejectedTotal: 3, botDroppedTotal: 4,
    });
    const c2 = await h.as(viewer).trackingIds.counts({ id: site.id, days: 2 });
    assert.deepEqual([c2.accepted, c2.botDroppedTotal, c2.from], [10, 5, today - DAY_MS]);
    const rates = (await h.as(viewer).health.errorRates({ tenantId: t.id })).find((r) => r.trackingId === site.id)!;
    assert.equal(rates.errorRate, 3 / 10);
    assert.deepEqual(rates.rejectedByReason, { origin_not_allowed: 2, rate_limited: 1 });
  });

  test('tenant deletion: a background job with progress deletes tracking IDs, raw events, rollups and records; others stay', async () => {
    const doomed = await h.as(owner).tenants.create({ name: 'Doomed' });
    const kept = await h.as(owner).tenants.create({ name: 'Kept' });
    const sites = [];
    for (let i = 0; i < 3; i++) sites.push(await h.as(owner).trackingIds.create({ tenantId: doomed.id, name: `S${i}`, allowedOrigins: ['*'] }));
    const keptSite = await h.as(owner).trackingIds.create({ tenantId: kept.id, name: 'K', allowedOrigins: ['*'] });
    const ts = Date.UTC(2026, 10, 20, 12);
    await h.storage.archive.insert([...sites, keptSite].flatMap((s) => Array.from({ length: 20 }, () => makeEvent({ trackingId: s.id, ts, receivedAt: ts }))));
    const all = (id: string) => h.storage.archive.count({ trackingIds: [id], from: 0, to: Date.UTC(2030, 0, 1) });
    const hour = Date.UTC(2026, 10, 20, 12);
    const totals = { pageviews: 1, events: 0, visits: 1, bounces: 0, durationMs: 0, conversions: 0, revenue: {}, visitors: new Uint8Array(16) };
    await h.storage.rollups.commit({ partition: 0, nextOffset: 1, sessions: [], seen: [], buckets: [sites[0], keptSite].map((s) => ({ trackingId: s.id, granularity: 'hour' as const, start: hour, totals, breakdowns: [], logicVersion: 1 })) });
    const rollupRows = (id: string) => h.storage.rollups.readTotals(id, 'hour', hour, hour + 3_600_000);
    assert.equal((await rollupRows(sites[0].id)).length, 1);

    await rejectsWith(h.as(owner).tenants.delete({ id: doomed.id, confirmName: 'doomed' }), 'invalid_request');
    const job = await h.as(owner).tenants.delete({ id: doomed.id, confirmName: 'Doomed' });
    assert.equal(job.status, 'running');
    const seen: number[] = [];
    for await (const p of await h.as(viewer).tenants.deletionProgress({ jobId: job.id })) seen.push(p.percent);
    assert.equal(seen.at(-1), 100);
    const done = await h.as(viewer).tenants.deletion({ jobId: job.id });
    assert.deepEqual([done.status, done.trackingIdsDone, done.trackingIdsTotal, done.eventsDeleted], ['done', 3, 3, 60]);
    assert.equal(done.rollupsDeleted, true);
    assert.deepEqual(await rollupRows(sites[0].id), [], 'rollups deleted');
    assert.equal((await rollupRows(keptSite.id)).length, 1, 'the other tenant\'s rollups kept');
    assert.equal(await h.storage.registry.getTenant(doomed.id), undefined);
    for (const s of sites) {
      assert.equal(await h.storage.registry.getTrackingId(s.id), undefined);
      assert.equal(await all(s.id), 0);
    }
    assert.equal(await all(keptSite.id), 20);
    assert.ok(await h.storage.registry.getTenant(kept.id));
    const [entry] = (await h.as(owner).audit.list({ target: `tenant:${doomed.id}`, action: 'tenants.delete' })).entries;
    assert.equal((entry.before as { name: string }).name, 'Doomed');
    await rejectsWith(h.as(viewer).tenants.deletion({ jobId: 'del_nope' }), 'not_found');
  });
});
