/**
 * The embedded profile's end-to-end test on the cluster profile, with the roles as separate
 * processes: collector (+admin), archiver + aggregator, and query, on Kafka, FerretDB, Cassandra
 * and Redis. 10,000 events with known truth must come back exactly.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateTraffic } from '../support/traffic.ts';
import { assertStatsMatchTruth, sendAsBrowsers } from '../support/truth.ts';
import { freshNamespace, startRoleProcess, type Namespace, type RoleProcess } from '../support/cluster.ts';
import { waitFor } from '../support/appliance.ts';
import { HOUR_MS } from '../../core/time.ts';

let ns: Namespace;
const processes: RoleProcess[] = [];
before(async () => {
  ns = freshNamespace('e2e');
});
after(async () => {
  for (const p of processes.reverse()) await p.stop();
  await ns?.drop();
});

test('10,000 events through collector, pipeline and query processes come back exactly', async () => {
  const collector = await startRoleProcess(ns.env, 'collector,admin');
  processes.push(collector);
  const pipeline = await startRoleProcess(ns.env, 'archiver,aggregator');
  processes.push(pipeline);
  const query = await startRoleProcess(ns.env, 'query');
  processes.push(query);

  const { trackingId, adminApiKey } = collector.credentials();
  const traffic = generateTraffic({ trackingId, events: 10_000, visitors: 1_500, start: Date.now() - 40 * HOUR_MS, spanMs: 30 * HOUR_MS, seed: 11 });
  assert.deepEqual(await sendAsBrowsers(collector.url, traffic), { 202: 10_000 });
  await assertStatsMatchTruth(query.url, adminApiKey, trackingId, traffic, 120_000);

  // Every accepted event is also in the raw archive (the replay source of last resort).
  const archived = () => ns.countArchived(trackingId);
  assert.ok(await waitFor(async () => (await archived()) >= 10_000, 30_000), `archive holds ${await archived()} of 10,000 events`);
  assert.equal(await archived(), 10_000);
});
