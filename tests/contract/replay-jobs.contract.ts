/**
 * Contract of the replay-job part of the Registry port, run against the embedded registry
 * (embedded.test.ts) and the MongoDB one (cluster.stack.test.ts).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Registry, ReplayJob, ReplayJobRegistry } from '../../core/ports/index.ts';
import type { Harness } from './fixtures.ts';

export function aJob(over: Partial<ReplayJob> = {}): ReplayJob {
  return {
    id: `rp_${randomUUID().slice(0, 12)}`,
    trackingIds: ['AL-ONE', 'AL-TWO'],
    tenantId: null,
    from: Date.UTC(2026, 10, 1),
    to: Date.UTC(2026, 10, 3),
    dryRun: false,
    status: 'queued',
    progress: { eventsDone: 0, eventsTotal: 0, bucketsDone: 0, bucketsTotal: 0, daysDone: 0, daysTotal: 4, elapsedMs: 0, eventsPerSec: 0, etaMs: 0 },
    source: 'archive',
    logicVersion: 1,
    createdAt: Date.now(),
    startedAt: null,
    finishedAt: null,
    error: null,
    cancelRequested: false,
    dryRunReport: null,
    ...over,
  };
}

export function replayJobContract(name: string, make: () => Promise<Harness<Registry & ReplayJobRegistry>>): void {
  describe(name, () => {
    let registry: Registry;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ port: registry, cleanup } = await make());
    });
    after(() => cleanup());

    test('create, get, list by status (oldest first), limit keeps the newest', async () => {
      const t = Date.now();
      const a = await registry.createReplayJob(aJob({ createdAt: t }));
      const b = await registry.createReplayJob(aJob({ createdAt: t + 1, status: 'done' }));
      const c = await registry.createReplayJob(aJob({ createdAt: t + 2, status: 'running' }));
      assert.deepEqual(await registry.getReplayJob(a.id), a);
      assert.equal(await registry.getReplayJob('rp_nonexistent'), undefined);
      const mine = (jobs: ReplayJob[]) => jobs.filter((j) => [a.id, b.id, c.id].includes(j.id)).map((j) => j.id);
      assert.deepEqual(mine(await registry.listReplayJobs()), [a.id, b.id, c.id]);
      assert.deepEqual(mine(await registry.listReplayJobs({ status: ['queued', 'running'] })), [a.id, c.id]);
      assert.deepEqual(mine(await registry.listReplayJobs({ status: [] })), []);
      assert.deepEqual((await registry.listReplayJobs({ limit: 1 })).map((j) => j.id), [c.id]);
      await assert.rejects(registry.createReplayJob(a), /already exists/);
    });

    test('update sets fields; a cancel request is never lost by a later progress update', async () => {
      const job = await registry.createReplayJob(aJob());
      const progress = { ...job.progress, daysDone: 1, eventsDone: 10 };
      const running = await registry.updateReplayJob(job.id, { status: 'running', startedAt: 5, progress });
      assert.deepEqual(running, { ...job, status: 'running', startedAt: 5, progress });
      await registry.updateReplayJob(job.id, { cancelRequested: true });
      const later = await registry.updateReplayJob(job.id, { progress: { ...progress, daysDone: 2 }, cancelRequested: false });
      assert.equal(later.cancelRequested, true);
      assert.equal((await registry.getReplayJob(job.id))!.cancelRequested, true);
      assert.equal((await registry.listReplayJobs({ status: ['running'] })).find((j) => j.id === job.id)!.cancelRequested, true);
      const report = { daysCompared: 1, days: [{ trackingId: 'AL-ONE', day: '2026-11-01', old: { pageviews: 1, events: 0, visits: 1, visitors: 1, revenue: {} }, new: { pageviews: 2, events: 0, visits: 1, visitors: 1, revenue: { EUR: 1.5 } } }] };
      const done = await registry.updateReplayJob(job.id, { status: 'done', finishedAt: 9, dryRunReport: report });
      assert.deepEqual(done.dryRunReport, report);
      assert.deepEqual(await registry.getReplayJob(job.id), done);
      await assert.rejects(registry.updateReplayJob('rp_nonexistent', { status: 'done' }));
    });
  });
}
