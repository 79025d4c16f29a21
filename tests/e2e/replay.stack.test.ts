/**
 * Replays on the cluster profile (Kafka, FerretDB, Cassandra, Redis), roles as processes:
 * collector+admin, and archiver+aggregator. History is counted by a deliberately wrong
 * aggregator (test-only hook), the pipeline process is restarted with the correct logic, and a
 * replay started through the admin API runs while live traffic keeps arriving. Every bucket of
 * the range must then equal computeRollups over the raw archive (MongoDB).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../appliance/main/config.ts';
import { openClusterStorage, type ClusterStorage } from '../../appliance/storage/cluster/index.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../core/time.ts';
import { LOGIC_VERSION } from '../../pipeline/logic-version.ts';
import { dayKey } from '../../pipeline/replay/index.ts';
import { compareBuckets, reference, storedBuckets, waitCaughtUp } from '../support/replay-reference.ts';
import { freshNamespace, stackEnv, startRoleProcess, type Namespace, type RoleProcess } from '../support/cluster.ts';
import { generateTraffic, type Traffic } from '../support/traffic.ts';
import { sendAsBrowsers } from '../support/truth.ts';
import { getJson, waitFor } from '../support/appliance.ts';

const MAX_AGE_HOURS = 24 * 8;
const OPTIONS = { sessionTimeoutMs: 30 * MINUTE_MS, topK: 100, logicVersion: LOGIC_VERSION };
let ns: Namespace;
let storage: ClusterStorage | undefined;
const processes: RoleProcess[] = [];

before(() => {
  stackEnv(); // explains what to start when the services are not configured
  ns = freshNamespace('rp');
});
after(async () => {
  for (const p of processes.reverse()) await p.stop();
  await storage?.close();
  await ns?.drop();
});

function traffic(trackingId: string, o: { events: number; visitors: number; daysBack: number; seed: number; net: number }): Traffic {
  const now = Date.now();
  const t = generateTraffic({ trackingId, events: o.events, visitors: o.visitors, start: now - o.daysBack * DAY_MS, spanMs: 2 * o.daysBack * DAY_MS - DAY_MS, seed: o.seed });
  const sends = t.sends
    .filter((s) => s.event.ts! < now - 2 * MINUTE_MS)
    .map((s) => ({ ...s, visitor: { ...s.visitor, ip: s.visitor.ip.replace(/^10\./, `${o.net}.`) } }));
  const times = sends.map((s) => s.event.ts!);
  return { ...t, sends, from: Math.min(...times), to: Math.max(...times) + 1 };
}

test('cluster: a replay while live traffic arrives gives exactly the reference', async () => {
  const env = { ...ns.env, ALMANAC_MAX_EVENT_AGE_HOURS: String(MAX_AGE_HOURS) };
  const collector = await startRoleProcess(env, 'collector,admin');
  processes.push(collector);
  let pipeline = await startRoleProcess(env, 'archiver,aggregator', undefined, { hooks: { dropBrowser: 'Firefox' } });
  processes.push(pipeline);
  const config = loadConfig(env);
  storage = await openClusterStorage(config, { topic: `${ns.name}.events`, keyspace: ns.name, redisKeyPrefix: `${ns.name}:`, log: () => {} });

  const { trackingId: site, adminApiKey } = collector.credentials();
  const first = traffic(site, { events: 3000, visitors: 450, daysBack: 3, seed: 41, net: 10 });
  assert.deepEqual(await sendAsBrowsers(collector.url, first), { 202: first.sends.length });
  await waitCaughtUp(storage.eventLog, 180_000);
  const from = Math.floor(first.from / DAY_MS) * DAY_MS;
  const to = Math.floor(Date.now() / DAY_MS) * DAY_MS + DAY_MS;
  const wrong = await storedBuckets(storage.rollups, site, from, to);
  assert.ok(compareBuckets(wrong, (await reference(storage.archive, site, OPTIONS)).buckets, from, to).length > 50, 'the wrong logic left differences');
  assert.ok(wrong.every((b) => b.logicVersion === 0));

  // The fixed build: the pipeline process restarted without the hook.
  await pipeline.stop();
  processes.splice(processes.indexOf(pipeline), 1);
  pipeline = await startRoleProcess({ ...env, ALMANAC_REPLAY_PAUSE_MS: '300' }, 'archiver,aggregator');
  processes.push(pipeline);

  const res = await fetch(`${collector.url}/api/admin/replays`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminApiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ trackingIds: [site], from: dayKey(from), to: dayKey(to - DAY_MS), source: 'archive' }),
  });
  const created = await res.json() as { id: string; source: string };
  assert.equal(res.status, 201, JSON.stringify(created));
  assert.equal(created.source, 'archive');

  const second = traffic(site, { events: 1500, visitors: 250, daysBack: 2, seed: 42, net: 11 });
  let job: any;
  const [statuses, done] = await Promise.all([
    sendAsBrowsers(collector.url, second, 8),
    waitFor(async () => (job = (await getJson(`${collector.url}/api/admin/replays/${created.id}`, adminApiKey)).body).status === 'done', 300_000, 250),
  ]);
  assert.deepEqual(statuses, { 202: second.sends.length });
  assert.ok(done, `replay not done: ${JSON.stringify(job)}\n${pipeline.output().slice(-3000)}`);
  await waitCaughtUp(storage.eventLog, 180_000);
  console.log(`cluster replay from the archive: ${job.progress.eventsDone} events, ${job.progress.daysTotal} days, ${job.progress.eventsPerSec} events/s (chunk time only)`);

  const ref = await reference(storage.archive, site, OPTIONS);
  const stored = await storedBuckets(storage.rollups, site, from, to);
  const differences = compareBuckets(stored, ref.buckets, from, to);
  assert.deepEqual(differences.slice(0, 3), [], `${differences.length} buckets differ`);
  assert.deepEqual(new Set(stored.map((b) => b.logicVersion)), new Set([LOGIC_VERSION]));
  const recent = ref.sessions.filter((s) => s.end >= Date.now() - MAX_AGE_HOURS * HOUR_MS);
  const live = await storage.rollups.getSessions(recent.map((s) => ({ trackingId: site, visitorId: s.visitorId })));
  assert.deepEqual(live.sort((a, b) => (a.visitorId < b.visitorId ? -1 : 1)), recent);

  // ---- Again from Kafka: more traffic counted by the wrong logic, then a replay with the
  // default source, which picks the log (every record of these days is within its retention).
  await pipeline.stop();
  processes.splice(processes.indexOf(pipeline), 1);
  pipeline = await startRoleProcess(env, 'archiver,aggregator', undefined, { hooks: { dropBrowser: 'Firefox' } });
  processes.push(pipeline);
  const third = traffic(site, { events: 1500, visitors: 250, daysBack: 3, seed: 43, net: 12 });
  assert.deepEqual(await sendAsBrowsers(collector.url, third), { 202: third.sends.length });
  await waitCaughtUp(storage.eventLog, 180_000);
  const wrongAgain = await storedBuckets(storage.rollups, site, from, to);
  assert.ok(compareBuckets(wrongAgain, (await reference(storage.archive, site, OPTIONS)).buckets, from, to).length > 50, 'the wrong logic left differences again');
  await pipeline.stop();
  processes.splice(processes.indexOf(pipeline), 1);
  pipeline = await startRoleProcess({ ...env, ALMANAC_REPLAY_PAUSE_MS: '300' }, 'archiver,aggregator');
  processes.push(pipeline);

  const fromLog = await fetch(`${collector.url}/api/admin/replays`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminApiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ trackingIds: [site], from: dayKey(from), to: dayKey(to - DAY_MS) }),
  });
  const logJob = await fromLog.json() as { id: string; source: string };
  assert.equal(fromLog.status, 201, JSON.stringify(logJob));
  assert.equal(logJob.source, 'log');
  const fourth = traffic(site, { events: 800, visitors: 150, daysBack: 2, seed: 44, net: 13 });
  const [statuses2, done2] = await Promise.all([
    sendAsBrowsers(collector.url, fourth, 8),
    waitFor(async () => (job = (await getJson(`${collector.url}/api/admin/replays/${logJob.id}`, adminApiKey)).body).status === 'done', 300_000, 250),
  ]);
  assert.deepEqual(statuses2, { 202: fourth.sends.length });
  assert.ok(done2, `replay not done: ${JSON.stringify(job)}\n${pipeline.output().slice(-3000)}`);
  assert.match(pipeline.output(), /\(event log\)/, 'the chunks read the event log');
  await waitCaughtUp(storage.eventLog, 180_000);
  console.log(`cluster replay from the log: ${job.progress.eventsDone} events, ${job.progress.daysTotal} days, ${job.progress.eventsPerSec} events/s (chunk time only)`);
  const ref2 = await reference(storage.archive, site, OPTIONS);
  const stored2 = await storedBuckets(storage.rollups, site, from, to);
  const differences2 = compareBuckets(stored2, ref2.buckets, from, to);
  assert.deepEqual(differences2.slice(0, 3), [], `${differences2.length} buckets differ after the replay from the log`);
  assert.deepEqual(new Set(stored2.map((b) => b.logicVersion)), new Set([LOGIC_VERSION]));
  const recent2 = ref2.sessions.filter((s) => s.end >= Date.now() - MAX_AGE_HOURS * HOUR_MS);
  const live2 = await storage.rollups.getSessions(recent2.map((s) => ({ trackingId: site, visitorId: s.visitorId })));
  assert.deepEqual(live2.sort((a, b) => (a.visitorId < b.visitorId ? -1 : 1)), recent2);
});
