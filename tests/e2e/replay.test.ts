/**
 * Replays end to end on a real appliance (embedded profile, pipeline in its worker thread).
 *
 * Known-truth traffic is first counted by a deliberately wrong aggregator (test-only hook: it
 * ignores Firefox and stamps logic version 0). The appliance is restarted with the correct logic
 * and history is replayed while live traffic keeps arriving (later timestamps, and some inside
 * the replayed days). Afterwards every bucket of the range — minute, hour and day totals and
 * every breakdown row, sketches included — must equal computeRollups over the whole raw archive.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../appliance/main/config.ts';
import { startAppliance, type RunningAppliance } from '../../appliance/main/run.ts';
import type { Credentials } from '../../appliance/main/first-start.ts';
import type { Registry, ReplayJob, ReplayJobRegistry } from '../../core/ports/index.ts';
import { openEmbeddedStorage } from '../../appliance/storage/embedded/index.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../core/time.ts';
import { LOGIC_VERSION } from '../../pipeline/logic-version.ts';
import { dayKey } from '../../pipeline/replay/index.ts';
import { cancelReplay, getReplay, startReplay } from '../../control/replays.ts';
import { archivedEvents, compareBuckets, reference, storedBuckets, waitCaughtUp } from '../support/replay-reference.ts';
import { figures } from '../../pipeline/replay/chunk.ts';
import { generateTraffic, type Traffic } from '../support/traffic.ts';
import { sendAsBrowsers } from '../support/truth.ts';
import { getJson, waitFor } from '../support/appliance.ts';
import { hooksModule, type HookSettings } from '../support/aggregator-hooks.ts';

const MAX_AGE_HOURS = 24 * 8;
const OPTIONS = { sessionTimeoutMs: 30 * MINUTE_MS, topK: 100, logicVersion: LOGIC_VERSION };
const dirs: string[] = [];
const running: RunningAppliance[] = [];
after(async () => {
  for (const app of running) await app.stop().catch(() => {});
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Starts an appliance on `dataDir`; `env` may switch on the test-only wrong logic or pace the replay. */
async function start(dataDir: string, env: Record<string, string> = {}, hooks?: HookSettings): Promise<{ app: RunningAppliance; credentials: Credentials }> {
  const config = loadConfig({ ALMANAC_DATA_DIR: dataDir, ALMANAC_PORT: '0', ALMANAC_TRUST_PROXY: 'true', ALMANAC_MAX_EVENT_AGE_HOURS: String(MAX_AGE_HOURS), ...env });
  const app = await startAppliance(config, hooks ? { hooksModule: hooksModule(hooks) } : {});
  running.push(app);
  return { app, credentials: JSON.parse(readFileSync(path.join(dataDir, 'credentials.json'), 'utf8')) as Credentials };
}

async function stop(app: RunningAppliance): Promise<void> {
  await app.stop();
  running.splice(running.indexOf(app), 1);
}

/** Traffic over the last days, in the past only, from visitors of their own (IPs 10.x or 11.x). */
function traffic(trackingId: string, o: { events: number; visitors: number; daysBack: number; seed: number; net: number }): Traffic {
  const now = Date.now();
  const t = generateTraffic({ trackingId, events: o.events, visitors: o.visitors, start: now - o.daysBack * DAY_MS, spanMs: 2 * o.daysBack * DAY_MS - DAY_MS, seed: o.seed });
  const sends = t.sends
    .filter((s) => s.event.ts! < now - 2 * MINUTE_MS)
    .map((s) => ({ ...s, visitor: { ...s.visitor, ip: s.visitor.ip.replace(/^10\./, `${o.net}.`) } }));
  const times = sends.map((s) => s.event.ts!);
  return { ...t, sends, from: Math.min(...times), to: Math.max(...times) + 1 };
}

async function waitForJob(app: RunningAppliance, id: string, done: (j: ReplayJob) => boolean, timeoutMs = 120_000): Promise<ReplayJob> {
  let job!: ReplayJob;
  const ok = await waitFor(async () => done((job = await getReplay(app.storage.registry, id))), timeoutMs, 100);
  assert.ok(ok, `replay ${id} did not get there in ${timeoutMs} ms: ${JSON.stringify(job)}`);
  return job;
}

/** A data folder whose history was counted by the wrong logic (Firefox ignored, logic version 0). */
async function wronglyCounted(o: { events: number; visitors: number; daysBack: number; seed: number }) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'almanac-replay-'));
  dirs.push(dataDir);
  const { app, credentials } = await start(dataDir, {}, { dropBrowser: 'Firefox' });
  const first = traffic(credentials.trackingId, { ...o, net: 10 });
  assert.deepEqual(await sendAsBrowsers(app.url, first), { 202: first.sends.length });
  await waitCaughtUp(app.storage.eventLog);
  const from = Math.floor(first.from / DAY_MS) * DAY_MS;
  const to = Math.floor(Date.now() / DAY_MS) * DAY_MS + DAY_MS;
  // The wrong logic really is wrong, and says so in its version: the comparison below can fail.
  const ref = await reference(app.storage.archive, credentials.trackingId, OPTIONS);
  const wrong = await storedBuckets(app.storage.rollups, credentials.trackingId, from, to);
  assert.ok(compareBuckets(wrong, ref.buckets, from, to).length > 100, 'the wrong logic left differences');
  assert.ok(wrong.every((b) => b.logicVersion === 0));
  assert.equal((await archivedEvents(app.storage.archive, credentials.trackingId)).length, first.sends.length);
  await stop(app);
  return { dataDir, credentials, first, from, to };
}

for (const source of ['archive', 'auto'] as const) test(`a replay (source ${source}) while live traffic arrives gives exactly the reference, with the current logic version`, async () => {
  const { dataDir, credentials, first, from, to } = await wronglyCounted({ events: 6000, visitors: 900, daysBack: 4, seed: source === 'archive' ? 21 : 23 });
  const site = credentials.trackingId;
  const { app } = await start(dataDir, { ALMANAC_REPLAY_PAUSE_MS: '400' });

  // A closed day's answer, cached before the replay (closed ranges are cached for 10 minutes).
  // The second day: a whole day of the first traffic, which the live traffic below (from two days
  // back) never reaches, so only the replay can change it.
  const closedDay = from + DAY_MS;
  const dayUrl = `${app.url}/api/v1/stats/aggregate?site_id=${site}&period=custom&date=${dayKey(closedDay)},${dayKey(closedDay)}&metrics=pageviews,visits`;
  const cachedBefore = (await getJson(dayUrl, credentials.adminApiKey)).body.results.pageviews.value;

  // Live traffic from other visitors: later timestamps, and some inside the replayed days.
  const second = traffic(site, { events: 2000, visitors: 300, daysBack: 2, seed: 22, net: 11 });
  const job = await startReplay(app.storage.registry, { trackingIds: [site], from: dayKey(from), to: dayKey(to - DAY_MS), source }, { eventLog: app.storage.eventLog });
  // auto: the log still holds every record of these recent days, so the job reads the log.
  assert.equal(job.source, source === 'auto' ? 'log' : 'archive');
  const [statuses, done] = await Promise.all([
    sendAsBrowsers(app.url, second, 8),
    waitForJob(app, job.id, (j) => j.status === 'done'),
  ]);
  assert.deepEqual(statuses, { 202: second.sends.length });
  await waitCaughtUp(app.storage.eventLog);
  assert.equal(done.progress.daysDone, done.progress.daysTotal);
  assert.ok(done.progress.eventsDone >= first.sends.length, JSON.stringify(done.progress));
  console.log(`embedded replay from the ${done.source}: ${done.progress.eventsDone} events, ${done.progress.daysTotal} days, ${done.progress.eventsPerSec} events/s (chunks only; pauses of 400 ms between them not counted)`);

  const ref = await reference(app.storage.archive, site, OPTIONS);
  assert.equal((await archivedEvents(app.storage.archive, site)).length, first.sends.length + second.sends.length);
  const stored = await storedBuckets(app.storage.rollups, site, from, to);
  const differences = compareBuckets(stored, ref.buckets, from, to);
  assert.deepEqual(differences.slice(0, 3), [], `${differences.length} buckets differ`);
  assert.ok(stored.length > 1000);
  assert.deepEqual(new Set(stored.map((b) => b.logicVersion)), new Set([LOGIC_VERSION]));

  // Visits that late events may still join are the recomputed ones in the live state.
  const horizon = Date.now() - MAX_AGE_HOURS * HOUR_MS;
  const recent = ref.sessions.filter((s) => s.end >= horizon);
  const live = await app.storage.rollups.getSessions(recent.map((s) => ({ trackingId: site, visitorId: s.visitorId })));
  assert.deepEqual(live.sort((a, b) => (a.visitorId < b.visitorId ? -1 : 1)), recent);

  // The replay bumped the site's data version: the cached closed-day answer is not served again.
  const dayBucket = ref.buckets.find((b) => b.granularity === 'day' && b.start === closedDay)!;
  const after = (await getJson(dayUrl, credentials.adminApiKey)).body.results.pageviews.value;
  assert.ok(cachedBefore < dayBucket.totals.pageviews);
  assert.equal(after, dayBucket.totals.pageviews);
  await stop(app);
});

test('dry run reports the per-day differences and writes nothing; cancel; resume after a crash', async () => {
  const { dataDir, credentials, from, to } = await wronglyCounted({ events: 3000, visitors: 450, daysBack: 3, seed: 31 });
  const site = credentials.trackingId;
  let { app } = await start(dataDir, { ALMANAC_REPLAY_PAUSE_MS: '700' });
  const ref = await reference(app.storage.archive, site, OPTIONS);
  const before = await storedBuckets(app.storage.rollups, site, from, to);
  const days = Math.round((to - from) / DAY_MS);

  // ---- dry run, through the admin API
  const post = (body: unknown, key = credentials.adminApiKey) => fetch(`${app.url}/api/admin/replays`, {
    method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  }).then(async (res) => ({ status: res.status, body: await res.json() as any }));
  assert.equal((await post({ trackingIds: [site], from: dayKey(from), to: dayKey(to - DAY_MS) }, 'ak_wrong')).status, 401);
  assert.deepEqual((await post({ trackingIds: [site], from: dayKey(to), to: dayKey(from) })).body.error.code, 'invalid_range');
  const created = await post({ trackingIds: [site], from: dayKey(from), to: dayKey(to - DAY_MS), dryRun: true });
  assert.equal(created.status, 201);
  assert.deepEqual([created.body.status, created.body.from, created.body.to, created.body.days], ['queued', dayKey(from), dayKey(to - DAY_MS), days]);
  const dry = { id: created.body.id as string };
  const dryDone = await waitForJob(app, dry.id, (j) => j.status === 'done');
  const shown = await getJson(`${app.url}/api/admin/replays/${dry.id}`, credentials.adminApiKey);
  assert.deepEqual([shown.status, shown.body.status, shown.body.percent], [200, 'done', 100]);
  assert.equal((await getJson(`${app.url}/api/admin/replays`, credentials.adminApiKey)).body.replays[0].id, dry.id);
  const expected = [];
  for (let day = from; day < to; day += DAY_MS) {
    const old = figures(before.find((b) => b.granularity === 'day' && b.start === day)?.totals);
    const fresh = figures(ref.buckets.find((b) => b.granularity === 'day' && b.start === day)?.totals);
    if (JSON.stringify(old) !== JSON.stringify(fresh)) expected.push({ trackingId: site, day: dayKey(day), old, new: fresh });
  }
  assert.ok(expected.length >= days - 1, 'Firefox is a quarter of the traffic: (almost) every day differs');
  assert.deepEqual(dryDone.dryRunReport, { daysCompared: days, days: expected });
  assert.ok(expected.every((d) => d.new.pageviews > d.old.pageviews));
  assert.deepEqual(await storedBuckets(app.storage.rollups, site, from, to), before, 'a dry run writes nothing');

  // ---- cancel: the days done stay replaced, the others keep the old version.
  // Each day's answer is cached before (10 minutes for closed ranges); the replay bumps the site's
  // data version, so a replaced day is not served from the cache. No live traffic bumps it here.
  const dayUrl = (day: number) => `${app.url}/api/v1/stats/aggregate?site_id=${site}&period=custom&date=${dayKey(day)},${dayKey(day)}&metrics=pageviews`;
  const dayPageviews = async (day: number) => (await getJson(dayUrl(day), credentials.adminApiKey)).body.results.pageviews.value as number;
  const refPageviews = (day: number) => ref.buckets.find((b) => b.granularity === 'day' && b.start === day)?.totals.pageviews ?? 0;
  for (let day = from; day < to; day += DAY_MS) assert.equal(await dayPageviews(day), figures(before.find((b) => b.granularity === 'day' && b.start === day)?.totals).pageviews);
  const cancelled = await startReplay(app.storage.registry, { trackingIds: [site], from: dayKey(from), to: dayKey(to - DAY_MS) });
  await waitForJob(app, cancelled.id, (j) => j.progress.daysDone >= 1);
  await cancelReplay(app.storage.registry, cancelled.id);
  const c = await waitForJob(app, cancelled.id, (j) => j.status === 'cancelled');
  assert.ok(c.progress.daysDone >= 1 && c.progress.daysDone < days, JSON.stringify(c.progress));
  const replacedUpTo = from + c.progress.daysDone * DAY_MS;
  const partial = await storedBuckets(app.storage.rollups, site, from, to);
  assert.deepEqual(compareBuckets(partial, ref.buckets, from, replacedUpTo), []);
  assert.ok(partial.filter((b) => b.start < replacedUpTo).every((b) => b.logicVersion === LOGIC_VERSION));
  assert.ok(partial.filter((b) => b.start >= replacedUpTo).every((b) => b.logicVersion === 0));
  for (let day = from; day < replacedUpTo; day += DAY_MS) assert.equal(await dayPageviews(day), refPageviews(day));

  // ---- a crash in the middle of a job: stopped after a chunk's commit but before its progress was
  // saved (simulated by taking one day back from the saved progress); the next start continues.
  const resumed = await startReplay(app.storage.registry, { trackingIds: [site], from: dayKey(from), to: dayKey(to - DAY_MS) });
  await waitForJob(app, resumed.id, (j) => j.progress.daysDone >= 2);
  await stop(app);
  const file = openEmbeddedStorage({ path: path.join(dataDir, 'almanac.sqlite'), partitions: 4 });
  const registry = file.registry;
  const mid = (await registry.getReplayJob(resumed.id))!;
  assert.equal(mid.status, 'running', 'a stopped appliance leaves its job running');
  assert.ok(mid.progress.daysDone >= 2 && mid.progress.daysDone < days, JSON.stringify(mid.progress));
  await registry.updateReplayJob(resumed.id, { progress: { ...mid.progress, daysDone: mid.progress.daysDone - 1 } });
  await file.close();
  ({ app } = await start(dataDir, { ALMANAC_REPLAY_PAUSE_MS: '700' }));
  const r = await waitForJob(app, resumed.id, (j) => j.status === 'done');
  assert.equal(r.progress.daysDone, days);
  assert.deepEqual(compareBuckets(await storedBuckets(app.storage.rollups, site, from, to), ref.buckets, from, to), []);
  await stop(app);
});
