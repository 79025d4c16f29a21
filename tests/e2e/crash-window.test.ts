/**
 * The crash window exactly-once is built for, hit on purpose (embedded profile).
 *
 * Random SIGKILLs (crash.test.ts) rarely land between the aggregator's rollup commit and the
 * log's offset commit. Here the aggregator's crash hook (tests/support/aggregator-hooks.ts, wired
 * in by tests/support/hooked-almanac.mjs) makes the appliance SIGKILL itself right after its n-th rollup commit, before the offset commit, three
 * times in a row. Each restart is given the records of the last batch again by the log; they must
 * be skipped (below the checkpoint), and in the end every bucket equals the reference computed
 * from the archive.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openEmbeddedStorage } from '../../appliance/storage/embedded/index.ts';
import { sqlitePath } from '../../appliance/main/profiles.ts';
import { HOUR_MS } from '../../core/time.ts';
import { embeddedProcess, freePort, type EmbeddedProcess } from '../support/embedded-process.ts';
import { generateTraffic } from '../support/traffic.ts';
import { verifyAgainstArchive } from '../support/verify.ts';
import { sleep } from '../../core/async.ts';

const dirs: string[] = [];
const running: EmbeddedProcess[] = [];
after(async () => {
  for (const p of running) if (p.running()) await p.stop('SIGKILL').catch(() => {});
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});


test('SIGKILL right after a rollup commit, before the log offset commit, three times: the records given again are skipped and every bucket equals the reference', { timeout: 240_000 }, async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'almanac-crash-window-'));
  dirs.push(dataDir);
  const port = await freePort();
  // Small aggregator batches: a request of 200 events is several batches, so the kill leaves
  // records of the partition both below and above the checkpoint.
  const base = { ALMANAC_AGGREGATOR_BATCH: '40' };
  const normal = embeddedProcess(dataDir, port, base);
  running.push(normal);
  await normal.start();
  const { adminApiKey } = normal.credentials();
  const tenant = JSON.parse(normal.cli(['tenants', 'create', '--name', 'window', '--rate-limit', '1000000'])) as { id: string };
  const site = JSON.parse(normal.cli(['tracking-ids', 'create', '--tenant', tenant.id, '--name', 'window', '--origins', '*'])) as { id: string; serverKey: string };
  await normal.stop('SIGTERM');

  const traffic = generateTraffic({ trackingId: site.id, events: 1200, visitors: 60, start: Date.now() - 20 * HOUR_MS, spanMs: 16 * HOUR_MS, seed: 7 });
  const byVisitor = new Map<string, typeof traffic.sends>();
  for (const s of traffic.sends) byVisitor.set(s.visitor.ip, [...(byVisitor.get(s.visitor.ip) ?? []), s]);
  const visitorBatches = [...byVisitor.values()];
  const accepted = new Set<string>();
  const send = async (url: string, sends: typeof traffic.sends) => {
    const res = await fetch(`${url}/api/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-almanac-key': site.serverKey, 'x-almanac-client-ip': sends[0].visitor.ip, 'x-almanac-user-agent': sends[0].visitor.userAgent },
      body: JSON.stringify(sends.map((s) => s.event)),
    });
    const body = await res.json() as { accepted?: number };
    assert.equal(res.status, 202, JSON.stringify(body));
    assert.equal(body.accepted, sends.length);
    for (const s of sends) accepted.add(s.event.eventId!);
  };

  const caughtUp = async (app: EmbeddedProcess): Promise<any> => {
    const until = Date.now() + 60_000;
    for (;;) {
      const status = await fetch(`${app.url}/api/admin/status`, { headers: { authorization: `Bearer ${adminApiKey}` } }).then((r) => r.json() as Promise<any>);
      if ((status.aggregatorLag as number[]).every((l) => l === 0)) return status;
      assert.ok(Date.now() < until, `not caught up: ${JSON.stringify(status.aggregatorLag)}`);
      await sleep(200);
    }
  };

  // Three rounds. A crashing run starts with nothing to catch up on (so it becomes healthy),
  // is given a third of the visitors and must kill itself after its first rollup commit; the
  // normal run after it is given the uncommitted records again and must skip those below the
  // checkpoint, then catches up.
  const thirds = [0, 1, 2].map((i) => visitorBatches.filter((_, v) => v % 3 === i));
  const skips: number[] = [];
  let lastStatus: any;
  for (const [round, visitors] of thirds.entries()) {
    const crashing = embeddedProcess(dataDir, port, base, { hooks: { crashAfterCommits: 1 } });
    running.push(crashing);
    await crashing.start();
    for (const v of visitors) {
      if (!crashing.running()) break;
      await send(crashing.url, v).catch(async (err) => {
        // The connection died with the process (its exit may take a moment to be seen).
        for (let i = 0; i < 20 && crashing.running(); i++) await sleep(100);
        if (crashing.running()) throw err;
      });
    }
    const until = Date.now() + 30_000;
    while (crashing.running() && Date.now() < until) await sleep(100);
    assert.equal(crashing.running(), false, `round ${round + 1}: the appliance did not kill itself after its first rollup commit\n${crashing.tail(30)}`);
    assert.equal(crashing.child?.signalCode, 'SIGKILL');
    assert.match(crashing.output(), /TEST ONLY: killing this process after rollup commit 1 /);

    const normal = embeddedProcess(dataDir, port, base);
    running.push(normal);
    await normal.start();
    // What the crashing run did not accept goes to this one.
    for (const v of visitors) if (!v.every((s) => accepted.has(s.event.eventId!))) await send(normal.url, v);
    lastStatus = await caughtUp(normal);
    const skipped = [...normal.output().matchAll(/skipped (\d+) records below the checkpoint/g)].map((m) => Number(m[1]));
    assert.ok(skipped.length > 0 && lastStatus.aggregator.skippedBelowCheckpoint > 0, `round ${round + 1}: no records were skipped below the checkpoint after the crash:\n${normal.tail(30)}`);
    skips.push(skipped.reduce((a, b) => a + b, 0));
    assert.equal((await normal.stop('SIGTERM')).code, 0);
  }
  console.log(`records skipped below the checkpoint after each crash: ${skips.join(', ')}; last run: ${JSON.stringify({ ...lastStatus.aggregator, newestEventTs: undefined })}`);
  assert.equal(accepted.size, traffic.sends.length);

  const storage = openEmbeddedStorage({ path: sqlitePath({ dataDir }), partitions: 4 });
  try {
    const verified = await verifyAgainstArchive(storage, site.id, accepted);
    assert.equal(verified.pageviews, traffic.sends.filter((s) => s.event.type === 'pageview').length);
    console.log(`verified: ${JSON.stringify(verified)}, 0 differences`);
  } finally {
    await storage.close();
  }
});
