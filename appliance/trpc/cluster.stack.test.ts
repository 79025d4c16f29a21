/**
 * The admin API on the cluster profile (Kafka, FerretDB, Cassandra, Redis): the first owner is
 * stored in MongoDB, health probes each service, the event log view reads Kafka offsets, and a
 * tenant deletion removes its raw events from MongoDB and its rollups from Cassandra.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createTRPCClient, httpLink } from '@trpc/client';
import type { AdminRouter } from './router.ts';
import { startTestAppliance, waitFor, type TestAppliance } from '../../tests/support/appliance.ts';
import { freshNamespace, startRoleProcess, type Namespace, type RoleProcess } from '../../tests/support/cluster.ts';

describe('admin API on the cluster profile', () => {
  let ns: Namespace;
  let app: TestAppliance;
  let pipeline: RoleProcess;
  let api: ReturnType<typeof createTRPCClient<AdminRouter>>;
  before(async () => {
    ns = freshNamespace('adm');
    app = await startTestAppliance({ ...ns.env, ALMANAC_PARTITIONS: '4', ALMANAC_ROLES: 'collector,query,admin' });
    pipeline = await startRoleProcess({ ...ns.env, ALMANAC_PARTITIONS: '4', ALMANAC_KAFKA_SESSION_TIMEOUT_MS: '10000' }, 'archiver,aggregator');
    const anon = createTRPCClient<AdminRouter>({ links: [httpLink({ url: `${app.url}/api/trpc` })] });
    const { token } = await anon.auth.signIn.mutate({ username: app.credentials.adminUsername!, password: app.credentials.adminPassword! });
    api = createTRPCClient<AdminRouter>({ links: [httpLink({ url: `${app.url}/api/trpc`, headers: { authorization: `Bearer ${token}` } })] });
  });
  after(async () => {
    await app?.close();
    await pipeline?.stop();
    await ns?.drop();
  });

  test('health: Kafka, MongoDB, Cassandra and Redis up with their latency', async () => {
    const services = await api.health.services.query();
    assert.deepEqual(services.map((s) => s.name).sort(), ['cassandra', 'kafka', 'mongodb', 'redis']);
    for (const s of services) {
      assert.equal(s.up, true, `${s.name}: ${s.error}`);
      assert.ok(s.latencyMs >= 0 && s.latencyMs < 2000, `${s.name} latency ${s.latencyMs}`);
    }
  });

  test('events flow: lag and rates from Kafka, freshness from the rollups, then tenant deletion clears MongoDB and Cassandra', async () => {
    const tenant = await api.tenants.create.mutate({ name: 'Cluster tenant' });
    const site = await api.trackingIds.create.mutate({ tenantId: tenant.id, name: 'Shop', allowedOrigins: ['*'] });
    const send = () => fetch(`${app.url}/api/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-almanac-key': site.serverKey!, 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0' },
      body: JSON.stringify({ events: Array.from({ length: 50 }, () => ({ eventId: randomUUID(), trackingId: site.id, url: 'https://shop.example/' })) }),
    });
    assert.ok(await waitFor(async () => (await send()).status === 202, 15_000), 'the new tracking ID is accepted');
    const archived = await waitFor(async () => (await ns.countArchived(site.id)) >= 50, 60_000);
    assert.ok(archived, `archived: ${await ns.countArchived(site.id)}; log ends ${JSON.stringify(await app.app.storage.eventLog.endOffsets())}; pipeline output:\n${pipeline.output().slice(-3000)}`);

    const log = await api.scaling.log.query();
    assert.equal(log.partitions, 4);
    assert.ok(log.endOffsets.reduce((a, b) => a + b, 0) >= 50);
    assert.deepEqual(log.groups.map((g) => g.group).sort(), ['almanac-aggregator', 'almanac-archiver']);

    assert.ok(await waitFor(async () => {
      const row = (await api.health.freshness.query({ tenantId: tenant.id }))[0];
      return row.ageMs !== null && row.ageMs < 5 * 60_000;
    }, 30_000), 'freshness from the newest rollup minute');
    // The collector flushes its counters to the registry every few seconds.
    assert.ok(await waitFor(async () => (await api.trackingIds.counts.query({ id: site.id })).accepted >= 50, 30_000), 'accepted counted');

    const job = await api.tenants.delete.mutate({ id: tenant.id, confirmName: 'Cluster tenant' });
    assert.ok(await waitFor(async () => (await api.tenants.deletion.query({ jobId: job.id })).status !== 'running', 60_000));
    const done = await api.tenants.deletion.query({ jobId: job.id });
    assert.equal(done.status, 'done', done.error ?? '');
    assert.equal(done.rollupsDeleted, true);
    assert.equal(await ns.countArchived(site.id), 0);
    assert.deepEqual(await app.app.storage.rollups.readTotals(site.id, 'minute', Date.now() - 3_600_000, Date.now() + 60_000), []);
    assert.equal(await app.app.storage.registry.getTenant(tenant.id), undefined);
  });
});
