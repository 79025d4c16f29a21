/**
 * Throughput and latency of the embedded adapters, printed as a table. Not a test: numbers depend
 * on the machine, so nothing asserts on them. Run: `npx tsx bench/storage-embedded.ts`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import type { EnrichedEvent } from '../core/event.ts';
import type { StoredBucket } from '../core/rollup/model.ts';
import { HOUR_MS } from '../core/time.ts';
import { sampleEvent } from '../tests/support/events.ts';
import { openEmbeddedStorage, type EmbeddedStorage, type EmbeddedStorageOptions } from '../appliance/storage/embedded/index.ts';

export interface BenchOptions {
  /** Events per append measurement. Default 60 000. */
  events?: number;
  /** Where temp files go. Default the OS temp dir. */
  tmp?: string;
  print?: (line: string) => void;
}

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

export async function runEmbeddedStorageBench(options: BenchOptions = {}): Promise<BenchResult[]> {
  const total = options.events ?? 60_000;
  const print = options.print ?? ((l: string) => console.log(l));
  const results: BenchResult[] = [];
  const record = (r: BenchResult) => {
    results.push(r);
    print(`${r.name.padEnd(58)} ${fmt(r.value).padStart(12)} ${r.unit}${r.note ? `  (${r.note})` : ''}`);
  };

  const root = mkdtempSync(path.join(options.tmp ?? tmpdir(), 'almanac-bench-'));
  let n = 0;
  const fresh = (extra: Partial<EmbeddedStorageOptions> = {}): EmbeddedStorage =>
    openEmbeddedStorage({ path: path.join(root, `bench-${n++}.sqlite`), partitions: 8, ...extra });
  const sites = Array.from({ length: 50 }, (_, i) => `site-${i}`);
  const events = (count: number) => Array.from({ length: count }, (_, i) => sampleEvent(sites[i % sites.length], Date.UTC(2030, 0, 1) + i));

  try {
    // ------------------------------------------------------------ payload codec
    const sample = events(20_000);
    print(`event JSON size: ${Buffer.byteLength(JSON.stringify(sample[0]))} bytes; v8.serialize size: ${v8.serialize(sample[0]).byteLength} bytes`);
    const json = sample.map((e) => JSON.stringify(e));
    const ser = sample.map((e) => v8.serialize(e));
    record({ name: 'codec: JSON.stringify', value: rate(sample.length, () => sample.forEach((e) => JSON.stringify(e))), unit: 'events/s' });
    record({ name: 'codec: JSON.parse', value: rate(sample.length, () => json.forEach((s) => JSON.parse(s))), unit: 'events/s' });
    record({ name: 'codec: v8.serialize', value: rate(sample.length, () => sample.forEach((e) => v8.serialize(e))), unit: 'events/s' });
    record({ name: 'codec: v8.deserialize', value: rate(sample.length, () => ser.forEach((b) => v8.deserialize(b))), unit: 'events/s' });

    // ------------------------------------------------------------ event log append
    const appendCases: [clients: number, batch: number, windowMs: number, synchronous: 'NORMAL' | 'FULL'][] = [
      [1, 1, 0, 'NORMAL'], [200, 1, 0, 'NORMAL'], [200, 1, 2, 'NORMAL'], [20, 100, 0, 'NORMAL'], [20, 100, 2, 'NORMAL'],
      [1, 1, 0, 'FULL'], [200, 1, 0, 'FULL'], [20, 100, 0, 'FULL'],
    ];
    for (const [clients, batch, windowMs, synchronous] of appendCases) {
      const s = fresh({ groupCommitWindowMs: windowMs, synchronous });
      const count = clients === 1 ? Math.min(total, synchronous === 'FULL' ? 500 : 5_000) : total;
      const data = events(count);
      const before = s.eventLog.commitStats;
      const t0 = performance.now();
      let next = 0;
      await Promise.all(Array.from({ length: clients }, async () => {
        while (next < data.length) {
          const chunk = data.slice(next, next + batch);
          next += batch;
          await s.eventLog.append(chunk);
        }
      }));
      const seconds = (performance.now() - t0) / 1000;
      const after = s.eventLog.commitStats;
      record({
        name: `log append: ${clients} appenders x ${batch} event(s), window ${windowMs} ms, sync ${synchronous}`,
        value: count / seconds,
        unit: 'events/s',
        note: `${Math.round((after.items - before.items) / Math.max(1, after.commits - before.commits))} events/commit`,
      });
      await s.close();
    }

    // ------------------------------------------------------------ event log consume
    {
      const s = fresh();
      await s.eventLog.append(events(total));
      let got = 0;
      const t0 = performance.now();
      await new Promise<void>((resolve) => {
        void s.eventLog.subscribe({
          group: 'bench', maxBatch: 500,
          onBatch: async (b) => {
            got += b.records.length;
            if (got >= total) resolve();
          },
        });
      });
      record({ name: 'log consume: read + decode + commit, batches of 500', value: total / ((performance.now() - t0) / 1000), unit: 'events/s' });
      await s.close();
    }

    // ------------------------------------------------------------ archive
    {
      const s = fresh();
      const data = events(total);
      const t0 = performance.now();
      for (let i = 0; i < data.length; i += 500) await s.archive.insert(data.slice(i, i + 500));
      record({ name: 'archive insert: batches of 500', value: total / ((performance.now() - t0) / 1000), unit: 'events/s' });
      const t1 = performance.now();
      await s.archive.insert(data.slice(0, 20_000));
      record({ name: 'archive insert: all duplicates, batches of 20 000', value: 20_000 / ((performance.now() - t1) / 1000), unit: 'events/s' });
      const t2 = performance.now();
      let scanned = 0;
      for await (const page of s.archive.scan({ trackingIds: sites.slice(0, 5), from: 0, to: Number.MAX_SAFE_INTEGER }, 1000)) scanned += page.length;
      record({ name: `archive scan: 5 sites merged, pages of 1000`, value: scanned / ((performance.now() - t2) / 1000), unit: 'events/s' });
      await s.close();
    }

    // ------------------------------------------------------------ rollups
    for (const sketchBytes of [256, 16_384]) {
      const s = fresh();
      const start = Date.UTC(2030, 0, 1);
      const hours = 720;
      // 10 sites x 30 days of hourly buckets, totals only, committed like an aggregator would (a day per commit).
      for (let site = 0; site < 10; site++) {
        for (let day = 0; day < 30; day++) {
          const buckets: StoredBucket[] = [];
          for (let h = 0; h < 24; h++) {
            buckets.push({
              trackingId: sites[site], granularity: 'hour', start: start + (day * 24 + h) * HOUR_MS, logicVersion: 1, breakdowns: [],
              totals: { pageviews: 100, events: 5, visits: 40, bounces: 10, durationMs: 1e6, conversions: 1, revenue: { EUR: 1000 }, visitors: new Uint8Array(randomBytes(sketchBytes)) },
            });
          }
          await s.rollups.commit({ partition: 0, nextOffset: site * 30 + day, buckets, sessions: [], seen: [] });
        }
      }
      const times: number[] = [];
      for (let i = 0; i < 200; i++) {
        const t0 = performance.now();
        const rows = await s.rollups.readTotals(sites[i % 10], 'hour', start, start + hours * HOUR_MS);
        times.push(performance.now() - t0);
        if (rows.length !== hours) throw new Error(`bench bug: expected ${hours} rows, got ${rows.length}`);
      }
      times.sort((a, b) => a - b);
      record({ name: `rollups readTotals: 720 hourly rows, ${sketchBytes}-byte sketches, p50`, value: times[100], unit: 'ms' });
      record({ name: `rollups readTotals: 720 hourly rows, ${sketchBytes}-byte sketches, p99`, value: times[198], unit: 'ms' });
      await s.close();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return results;
}

function rate(count: number, work: () => void): number {
  work(); // warm-up
  const t0 = performance.now();
  work();
  return count / ((performance.now() - t0) / 1000);
}

function fmt(v: number): string {
  return v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runEmbeddedStorageBench();
}
