import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import Fastify from 'fastify';
import os from 'node:os';
import path from 'node:path';
import { openEmbeddedStorage } from '../appliance/storage/embedded/index.ts';
import { runMaintenanceOnce } from './maintenance.ts';
import { createTenant } from '../control/tenants.ts';
import { createTrackingId } from '../control/tracking-ids.ts';
import { sampleEvent } from '../tests/support/events.ts';
import { DAY_MS, dayOf } from '../core/time.ts';
import { SALT_MAX_AGE_MS } from '../core/salt.ts';
import { createCollector } from '../collectors/http.ts';

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

test('no daily salt older than 48 h remains in the registry or a collector\'s memory, and the README promises no more', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'almanac-maint-'));
  const s = openEmbeddedStorage({ path: path.join(dir, 'm.sqlite'), partitions: 2 });
  const app = Fastify();
  let now = Date.UTC(2026, 2, 1, 12);
  try {
    const tenant = await createTenant(s.registry, { name: 'T' });
    const site = await createTrackingId(s.registry, { tenantId: tenant.id, name: 'S', allowedOrigins: ['*'] });
    // The collector holds salts only in its memory and the registry: it has no cache to put one in.
    const collector = createCollector({ eventLog: { append: async () => {} }, registry: s.registry, geo: null, now: () => now }, { counterFlushMs: 3_600_000 });
    collector.register(app);
    await app.ready();
    const send = async () => {
      const res = await app.inject({ method: 'POST', url: '/api/event', headers: { 'content-type': 'application/json', origin: 'https://x.example', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0' }, payload: JSON.stringify({ eventId: crypto.randomUUID(), trackingId: site.id, url: 'https://x.example/', ts: now }) });
      assert.equal(res.statusCode, 202, res.body);
    };
    const config = { sessionTimeoutMs: 30 * 60_000, dedupWindowHours: 48, maxEventAgeHours: 72, intervalMs: 10 * 60_000 };
    const deps = { rollups: s.rollups, archive: s.archive, registry: s.registry, now: () => now };
    const tooOld = (days: number[]) => days.filter((d) => now - d >= SALT_MAX_AGE_MS);

    // Four days of traffic, with maintenance and the collector's minute look as the timers would run them.
    for (let day = 0; day < 4; day++) {
      await send();
      for (let step = 0; step < 24 * 6; step++) {
        now += config.intervalMs;
        await runMaintenanceOnce(deps, config);
        collector.salts.forget(now, 60_000);
        assert.deepEqual(tooOld(await s.registry.listDailySaltDays()), [], `registry at ${new Date(now).toISOString()}`);
        assert.deepEqual(tooOld(collector.salts.heldDays()), [], `memory at ${new Date(now).toISOString()}`);
      }
    }
    // At noon, a day after the last traffic: only that day's salt (36 h old) is left.
    assert.deepEqual(await s.registry.listDailySaltDays(), [dayOf(now) - DAY_MS]);
    assert.deepEqual(collector.salts.heldDays(), [dayOf(now) - DAY_MS]);

    assert.equal(SALT_MAX_AGE_MS, 48 * 3_600_000);
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
    assert.match(readme, /a visitor is a keyed hash of a salt that rotates daily \(and is kept at most 48 hours/);
  } finally {
    await app.close();
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
