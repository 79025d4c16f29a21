/**
 * Background housekeeping: drops aggregator state that can no longer matter (ended sessions,
 * seen-IDs past the dedup window), raw events past each tenant's retention, and the daily salts
 * of visitor IDs once their day began 48 h ago (core/salt.ts).
 * Runs on a timer; every step is a bounded delete, so a slow store only delays it.
 */
import type { RawArchive, Registry, RollupStore } from '../core/ports/index.ts';
import { oldestSaltDayToKeep } from '../core/salt.ts';
import { DAY_MS, HOUR_MS } from '../core/time.ts';

export interface MaintenanceDeps {
  rollups: RollupStore;
  archive: RawArchive;
  registry: Registry;
  /** Drops event-log records every consumer group has processed and that are past retention (embedded log). */
  trimLog?: () => Promise<number>;
  now?: () => number;
  log?: (message: string) => void;
}

export interface MaintenanceConfig {
  sessionTimeoutMs: number;
  dedupWindowHours: number;
  maxEventAgeHours: number;
  intervalMs: number;
}

export async function runMaintenanceOnce(deps: MaintenanceDeps, config: MaintenanceConfig): Promise<{ deletedRawEvents: number; trimmedLogRecords: number; deletedSalts: number }> {
  const now = (deps.now ?? Date.now)();
  // First, and before anything that may fail: a salt must not outlive its 48 h. The next run is
  // intervalMs away, so what would pass 48 h before then goes now.
  const deletedSalts = await deps.registry.deleteDailySaltsBefore(oldestSaltDayToKeep(now, config.intervalMs));
  // A session can still grow while late events may arrive for it, so keep it as long as
  // the collector accepts events that old.
  await deps.rollups.prune(now - config.maxEventAgeHours * HOUR_MS - config.sessionTimeoutMs, now - config.dedupWindowHours * HOUR_MS);
  let deletedRawEvents = 0;
  const tenants = new Map((await deps.registry.listTenants()).map((t) => [t.id, t]));
  for (const site of await deps.registry.listTrackingIds()) {
    const tenant = tenants.get(site.tenantId);
    if (!tenant) continue;
    deletedRawEvents += await deps.archive.deleteBefore(site.id, now - tenant.retentionDays * DAY_MS);
  }
  const trimmedLogRecords = deps.trimLog ? await deps.trimLog() : 0;
  return { deletedRawEvents, trimmedLogRecords, deletedSalts };
}

export function startMaintenance(deps: MaintenanceDeps, config: MaintenanceConfig): { id: 'maintenance'; onShutdown(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = runMaintenanceOnce(deps, config).catch((e) => deps.log?.(`maintenance: ${(e as Error).message}; will retry`));
  }, config.intervalMs);
  timer.unref();
  return {
    id: 'maintenance',
    async onShutdown() {
      clearInterval(timer);
      await running;
    },
  };
}
