/**
 * Deleting a tenant with its data, as a background job in the API process: its tracking IDs are
 * revoked first (ingest stops), then each one's raw archive events and rollups are deleted, then
 * the registry records (tenant, tracking IDs, API keys, ingest counters). Progress is kept in
 * memory: a restart loses the job's progress, not its effect; running the deletion again finishes it.
 */
import { sleep } from '../core/async.ts';
import { randomBytes } from 'node:crypto';
import type { RawArchive, Registry, RollupStore, Tenant } from '../core/ports/index.ts';
import { DAY_MS } from '../core/time.ts';
import { ControlError } from './errors.ts';

/** What a deletion needs; one set of jobs per deps object (one per appliance process). */
export interface DeletionDeps {
  registry: Registry;
  archive: RawArchive;
  rollups: RollupStore;
  now?: () => number;
  log?: (message: string) => void;
}

export interface DeletionJob {
  id: string;
  tenantId: string;
  tenantName: string;
  status: 'running' | 'done' | 'failed';
  step: 'revoking' | 'deleting data' | 'deleting records' | 'finished';
  trackingIdsDone: number;
  trackingIdsTotal: number;
  eventsDeleted: number;
  /** Whether rollups were deleted too (the store can delete them). */
  rollupsDeleted: boolean;
  percent: number;
  startedAt: number;
  finishedAt: number | null;
  error: string | null;
}

const POLL_MS = 250;
// Buckets can be older than the tenant (backdated or imported events): rollups are deleted from
// this long before its creation. A store that can delete everything (SQLite) ignores the range.
const ROLLUPS_BEFORE_CREATION_MS = 730 * DAY_MS; // 2 years
const registries = new WeakMap<DeletionDeps, ReturnType<typeof createDeletionJobs>>();

export function deletionJobs(deps: DeletionDeps): ReturnType<typeof createDeletionJobs> {
  let jobs = registries.get(deps);
  if (!jobs) registries.set(deps, (jobs = createDeletionJobs(deps)));
  return jobs;
}

function createDeletionJobs(deps: DeletionDeps) {
  const now = deps.now ?? Date.now;
  const jobs = new Map<string, DeletionJob>();

  async function run(job: DeletionJob, tenant: Tenant): Promise<void> {
    const range = { from: tenant.createdAt - ROLLUPS_BEFORE_CREATION_MS, to: now() + DAY_MS };
    const registry = deps.registry;
    const ids = (await registry.listTrackingIds(job.tenantId)).map((t) => t.id);
    job.trackingIdsTotal = ids.length;
    for (const tid of ids) await registry.updateTrackingId(tid, { status: 'revoked' });
    job.step = 'deleting data';
    for (const tid of ids) {
      job.eventsDeleted += await deps.archive.deleteBefore(tid, Number.MAX_SAFE_INTEGER);
      await deps.rollups.deleteTrackingId(tid, range);
      job.rollupsDeleted = true;
      job.trackingIdsDone++;
      job.percent = Math.floor((90 * job.trackingIdsDone) / Math.max(1, ids.length));
    }
    job.step = 'deleting records';
    await registry.deleteTenantRecords(job.tenantId);
    job.step = 'finished';
    job.percent = 100;
  }

  return {
    start(tenant: Tenant): DeletionJob {
      const running = [...jobs.values()].find((j) => j.tenantId === tenant.id && j.status === 'running');
      if (running) return { ...running };
      const job: DeletionJob = {
        id: `del_${randomBytes(6).toString('hex')}`, tenantId: tenant.id, tenantName: tenant.name, status: 'running', step: 'revoking',
        trackingIdsDone: 0, trackingIdsTotal: 0, eventsDeleted: 0, rollupsDeleted: false, percent: 0, startedAt: now(), finishedAt: null, error: null,
      };
      jobs.set(job.id, job);
      run(job, tenant).then(
        () => { job.status = 'done'; job.finishedAt = now(); },
        (error: Error) => {
          job.status = 'failed';
          job.finishedAt = now();
          job.error = `${error.message} — start the deletion again to finish it.`;
          deps.log?.(`tenant deletion ${job.id} failed: ${error.stack ?? error.message}`);
        },
      );
      return { ...job };
    },
    get(jobId: string): DeletionJob {
      const job = jobs.get(jobId);
      if (!job) throw new ControlError('not_found', `No deletion job "${jobId}" in this appliance process (jobs are forgotten on restart).`);
      return { ...job };
    },
    async *watch(jobId: string, signal?: AbortSignal): AsyncGenerator<DeletionJob> {
      let last = '';
      for (;;) {
        const job = this.get(jobId);
        const json = JSON.stringify(job);
        if (json !== last) {
          last = json;
          yield job;
        }
        if (job.status !== 'running' || signal?.aborted) return;
        await sleep(POLL_MS);
      }
    },
  };
}
