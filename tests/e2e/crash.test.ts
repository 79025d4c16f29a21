/**
 * Exactly once under crashes (embedded profile, pipeline in its worker thread).
 *
 * The appliance runs as a real process on one data folder. While generated traffic arrives
 * through /api/batch (a server-side sender forwarding each visitor's IP and user agent, one
 * visitor per batch, a visitor's batches in order), the process is SIGKILLed at random moments
 * and started again on the same folder. The sender retries every failed request with the same
 * events (same eventIds), as a client with a retry queue does, and deliberately sends about 10 %
 * of the accepted batches again, some after a restart.
 *
 * Afterwards the SQLite file is opened read-side: the archive must hold every accepted eventId
 * exactly once, and every stored bucket — minute, hour and day totals, every breakdown row,
 * visitor sketches byte for byte — must equal computeRollups over the archive, with no stored
 * bucket the reference lacks. The visits the aggregator keeps must equal the reference's too.
 *
 * CRASH_SEED=<n> repeats a run's traffic and kill timing (not the exact moments the kills land).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openEmbeddedStorage } from '../../appliance/storage/embedded/index.ts';
import { sqlitePath } from '../../appliance/main/profiles.ts';
import type { IncomingEvent } from '../../core/event.ts';
import { HOUR_MS, MINUTE_MS } from '../../core/time.ts';
import { waitCaughtUp } from '../support/replay-reference.ts';
import { verifyAgainstArchive } from '../support/verify.ts';
import { embeddedProcess, freePort, type EmbeddedProcess } from '../support/embedded-process.ts';
import { generateTraffic, type GeneratedVisitor, rng } from '../support/traffic.ts';
import { sleep } from '../../core/async.ts';

const EVENTS = Number(process.env.CRASH_EVENTS ?? 100_000);
const VISITORS = Math.round(EVENTS / 25);
const BATCH = 100;
const MIN_KILLS = 5;
const CONCURRENCY = 12;
const SEED = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 1e9));

const dirs: string[] = [];
const processes: EmbeddedProcess[] = [];
after(async () => {
  for (const p of processes) await p.stop('SIGKILL').catch(() => {});
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});


interface Batch {
  index: number;
  visitor: GeneratedVisitor;
  events: IncomingEvent[];
}

test(`SIGKILL at random moments while ${EVENTS} events arrive: every bucket equals the reference over the archive, every eventId archived once`, { timeout: 300_000 }, async () => {
  const started = Date.now();
  const random = rng(SEED);
  console.log(`crash test: seed ${SEED} (repeat with CRASH_SEED=${SEED}), ${EVENTS} events, ${VISITORS} visitors`);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'almanac-crash-'));
  dirs.push(dataDir);
  const app = embeddedProcess(dataDir, await freePort());
  processes.push(app);
  const fail = (message: string): never => assert.fail(`${message}\n--- appliance output (tail) ---\n${app.tail(80)}`);

  try {
    await app.start();
    const { adminApiKey } = app.credentials();
    const tenant = JSON.parse(app.cli(['tenants', 'create', '--name', 'crash', '--rate-limit', '1000000'])) as { id: string };
    const site = JSON.parse(app.cli(['tracking-ids', 'create', '--tenant', tenant.id, '--name', 'crash', '--origins', '*'])) as { id: string; serverKey: string };

    // Traffic in the past (well inside the 72 h accepted), each visitor's events in time order.
    const now = Date.now();
    const traffic = generateTraffic({ trackingId: site.id, events: EVENTS, visitors: VISITORS, start: now - 60 * HOUR_MS, spanMs: 50 * HOUR_MS, seed: SEED });
    const sends = traffic.sends.filter((s) => s.event.ts! < now - 2 * MINUTE_MS);
    const byVisitor = new Map<string, { visitor: GeneratedVisitor; events: IncomingEvent[] }>();
    for (const s of sends) {
      const v = byVisitor.get(s.visitor.ip) ?? byVisitor.set(s.visitor.ip, { visitor: s.visitor, events: [] }).get(s.visitor.ip)!;
      v.events.push(s.event);
    }
    const queues: Batch[][] = [];
    let batchCount = 0;
    for (const { visitor, events } of byVisitor.values()) {
      const q: Batch[] = [];
      for (let i = 0; i < events.length; i += BATCH) q.push({ index: batchCount++, visitor, events: events.slice(i, i + BATCH) });
      queues.push(q);
    }
    const expected = { pageviews: sends.filter((s) => s.event.type === 'pageview').length, events: sends.filter((s) => s.event.type === 'event').length };

    // --- the sender: retries until accepted, same events every time ---
    const accepted = new Set<string>();
    let acceptedBatches = 0;
    let retries = 0;
    let duplicatesSent = 0;
    const failures = new Map<string, number>();
    const dupes: Batch[] = [];
    async function send(batch: Batch, why: 'first' | 'duplicate'): Promise<void> {
      const until = Date.now() + 90_000;
      for (let attempt = 0; ; attempt++) {
        let status = 0;
        let body: any;
        try {
          const res = await fetch(`${app.url}/api/batch`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'x-almanac-key': site.serverKey,
              'x-almanac-client-ip': batch.visitor.ip,
              'x-almanac-user-agent': batch.visitor.userAgent,
            },
            body: JSON.stringify(batch.events),
            signal: AbortSignal.timeout(20_000),
          });
          status = res.status;
          body = await res.json().catch(() => undefined);
        } catch (err) {
          const code = String((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name);
          failures.set(code, (failures.get(code) ?? 0) + 1);
        }
        if (status === 202) {
          if (body?.accepted !== batch.events.length || body.rejected?.length) {
            fail(`batch ${batch.index} (${why}): 202 but ${JSON.stringify(body).slice(0, 500)}`);
          }
          if (why === 'first') {
            for (const e of batch.events) accepted.add(e.eventId!);
            acceptedBatches++;
          } else duplicatesSent++;
          return;
        }
        if (status !== 0 && status !== 503 && status !== 429) fail(`batch ${batch.index} (${why}): status ${status} ${JSON.stringify(body).slice(0, 500)}`);
        if (status !== 0) failures.set(String(status), (failures.get(String(status)) ?? 0) + 1);
        if (Date.now() > until) fail(`batch ${batch.index} (${why}) not accepted after 90 s of retries (last status ${status})`);
        retries++;
        await sleep(100 + Math.floor(random() * 200));
      }
    }

    // The last tenth of the visitors waits until MIN_KILLS kills have landed while sending.
    let sendingDone = false;
    let inFlight = 0;
    let killsWhileSending = 0;
    const holdBack = Math.floor(queues.length * 0.9);
    const sender = (async () => {
      let next = 0;
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        while (next < queues.length) {
          if (next >= holdBack) {
            const until = Date.now() + 120_000;
            while (killsWhileSending < MIN_KILLS) {
              if (Date.now() > until) fail(`only ${killsWhileSending} kills while sending after 120 s`);
              await sleep(100);
            }
          }
          if (next >= queues.length) break;
          for (const batch of queues[next++]) {
            inFlight++;
            await send(batch, 'first').finally(() => inFlight--);
            // ~10 % go again: half right away, half after the next restart.
            const r = random();
            if (r < 0.05) await send(batch, 'duplicate');
            else if (r < 0.1) dupes.push(batch);
          }
        }
      }));
      sendingDone = true;
    })();

    // --- the killer: SIGKILL at random moments, restart on the same folder ---
    const kills: string[] = [];
    const killer = (async () => {
      // Until sending is done, then once more while the aggregator catches up.
      for (let afterSending = 0; afterSending < 1; ) {
        if (sendingDone) afterSending++;
        await sleep(500 + Math.floor(random() * 3500));
        const status = await fetch(`${app.url}/api/admin/status`, { headers: { authorization: `Bearer ${adminApiKey}` } })
          .then((r) => r.json() as Promise<any>, () => null);
        const lag = status?.aggregatorLag ? (status.aggregatorLag as number[]).reduce((a, b) => a + b, 0) : '?';
        const during = !sendingDone;
        const requests = inFlight;
        const killed = await app.stop('SIGKILL');
        if (during) killsWhileSending++;
        const a = status?.aggregator;
        const line = `kill #${kills.length + 1} at +${((Date.now() - started) / 1000).toFixed(1)} s ${during ? `while sending (${requests} batches in flight)` : 'after sending (catch-up)'}: ` +
          `${acceptedBatches}/${batchCount} batches accepted; just before: aggregator lag ${lag}, this run processed ${a?.processed ?? '?'}, ` +
          `dropped ${a?.duplicates ?? '?'} duplicates, skipped ${a?.skippedBelowCheckpoint ?? '?'} below checkpoint, ${a?.commits ?? '?'} commits; exit ${killed.signal}`;
        kills.push(line);
        console.log(line);
        await app.start();
        // Duplicates of batches accepted before the crash, sent after the restart.
        for (const batch of dupes.splice(0)) await send(batch, 'duplicate');
      }
    })();
    await Promise.all([sender, killer]);
    for (const batch of dupes.splice(0)) await send(batch, 'duplicate');
    console.log(`sent: ${acceptedBatches} batches (${accepted.size} events) accepted, ${duplicatesSent} duplicate batches, ${retries} retries; failures ${JSON.stringify(Object.fromEntries(failures))}; ${kills.length} kills in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.equal(accepted.size, sends.length);
    assert.ok(killsWhileSending >= MIN_KILLS, `${killsWhileSending} kills while sending`);

    // --- catch-up: the aggregator's lag is 0 and stays 0 for 2 s; the archiver too ---
    const reader = openEmbeddedStorage({ path: sqlitePath({ dataDir }), partitions: 4 });
    try {
      await waitCaughtUp(reader.eventLog, 60_000).catch((e) => fail((e as Error).message));
    } finally {
      await reader.close();
    }
    let zeroSince = 0;
    let last: any;
    const until = Date.now() + 60_000;
    for (;;) {
      last = await fetch(`${app.url}/api/admin/status`, { headers: { authorization: `Bearer ${adminApiKey}` } }).then((r) => r.json() as Promise<any>, () => null);
      const zero = Array.isArray(last?.aggregatorLag) && last.aggregatorLag.every((l: number) => l === 0);
      if (!zero) zeroSince = 0;
      else if (!zeroSince) zeroSince = Date.now();
      else if (Date.now() - zeroSince >= 2000) break;
      if (Date.now() > until) fail(`aggregator not caught up (lag 0 for 2 s) after 60 s: ${JSON.stringify(last?.aggregatorLag)}`);
      await sleep(200);
    }
    console.log(`caught up at +${((Date.now() - started) / 1000).toFixed(1)} s; last run's aggregator: ${JSON.stringify({ ...last.aggregator, newestEventTs: undefined })}`);
    const stopped = await app.stop('SIGTERM');
    assert.equal(stopped.code, 0, `SIGTERM exit ${JSON.stringify(stopped)}`);

    // --- read-side: archive and rollups against the reference ---
    const storage = openEmbeddedStorage({ path: sqlitePath({ dataDir }), partitions: 4 });
    try {
      const [end, archived, aggregated] = await Promise.all([
        storage.eventLog.endOffsets(), storage.eventLog.committedOffsets('almanac-archiver'), storage.eventLog.committedOffsets('almanac-aggregator'),
      ]);
      assert.ok(end.every((e, p) => (archived[p] ?? 0) >= e && (aggregated[p] ?? 0) >= e), `not caught up: end ${end}, archiver ${archived}, aggregator ${aggregated}`);

      const verified = await verifyAgainstArchive(storage, site.id, accepted);
      // Generator truth for the plain counts (a bonus: the reference is the real check).
      assert.equal(verified.pageviews, expected.pageviews);
      assert.equal(verified.customEvents, expected.events);
      console.log(`verified: ${verified.events} archived events, ${verified.buckets} buckets (${verified.days} days), ${verified.visits} visits, 0 differences; ${kills.length} kills; ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } finally {
      await storage.close();
    }
  } catch (err) {
    if (!String((err as Error).message).includes('--- appliance output')) {
      console.error(`--- appliance output (tail) ---\n${app.tail(80)}`);
    }
    throw err;
  }
});
