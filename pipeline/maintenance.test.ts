import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openEmbeddedStorage } from '../appliance/storage/embedded/index.ts';
import { runMaintenanceOnce } from './maintenance.ts';
import { createTenant, createTrackingId } from '../appliance/tenancy.ts';
import { sampleEvent } from '../appliance/storage/embedded/bench.ts';
import { DAY_MS } from '../core/time.ts';

test('maintenance deletes raw events past the tenant retention and keeps the rest', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'almanac-maint-'));
  const s = openEmbeddedStorage({ path: path.join(dir, 'm.sqlite'), partitions: 2 });
  try {
    const tenant = await createTenant(s.registry, { name: 'T', retentionDays: 30 });
    const site = await createTrackingId(s.registry, { tenantId: tenant.id, name: 'S', allowedOrigins: ['*'] });
    const now = Date.now();
    const old = { ...sampleEvent(site.id, now - 40 * DAY_MS), eventId: crypto.randomUUID() };
    const recent = { ...sampleEvent(site.id, now - 10 * DAY_MS), eventId: crypto.randomUUID() };
    await s.archive.insert([old, recent]);
    const result = await runMaintenanceOnce(
      { rollups: s.rollups, archive: s.archive, registry: s.registry, trimLog: () => s.eventLog.trim(), now: () => now },
      { sessionTimeoutMs: 30 * 60_000, dedupWindowHours: 48, maxEventAgeHours: 72, intervalMs: 1000 },
    );
    assert.equal(result.deletedRawEvents, 1);
    assert.equal(await s.archive.count({ trackingIds: [site.id], from: 0, to: now + 1 }), 1);
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
