/**
 * Embedded profile on more than one core: the archiver and the aggregator run in a worker thread
 * with their own connection to the same SQLite file (WAL lets readers and one writer share it),
 * while the main thread serves HTTP. The worker reports its stats and the data-version bumps for
 * the query cache (which lives in the main thread) by message.
 */
import { Worker } from 'node:worker_threads';
import type { AlmanacConfig } from './config.ts';
import type { Cache } from '../../core/ports/index.ts';
import { bumpDataVersion } from '../../core/data-version.ts';
import type { Aggregator, AggregatorHooks, AggregatorStats } from '../../pipeline/aggregator.ts';

export type FromWorker =
  | { type: 'ready' }
  | { type: 'stats'; stats: AggregatorStats }
  | { type: 'incr'; key: string }
  | { type: 'log'; message: string }
  | { type: 'failed'; message: string }
  | { type: 'stopped' };

export interface PipelineThread extends Aggregator {}

export async function startPipelineThread(
  config: Readonly<AlmanacConfig>,
  deps: {
    cache: Cache;
    log: (message: string) => void;
    /** URL of a module exporting the aggregator's hooks, loaded in the thread (functions cannot cross threads): test harnesses only. */
    hooksModule?: string;
  },
): Promise<PipelineThread> {
  const worker = new Worker(new URL('../bin/pipeline-worker.mjs', import.meta.url), { workerData: { config, hooksModule: deps.hooksModule } });
  let stats: AggregatorStats = { processed: 0, duplicates: 0, skippedBelowCheckpoint: 0, commits: 0, failedCommits: 0, fencedCommits: 0, newestEventTs: {}, lastCommitAt: null };
  let exited = false;
  const stopped = new Promise<void>((resolve) => worker.once('exit', () => { exited = true; resolve(); }));

  await new Promise<void>((resolve, reject) => {
    worker.on('message', (m: FromWorker) => {
      switch (m.type) {
        case 'ready': resolve(); break;
        case 'stats': stats = m.stats; break;
        // The aggregator's data-version bumps (dv:<site>), seeded here where the query cache is.
        case 'incr': void (m.key.startsWith('dv:') ? bumpDataVersion(deps.cache, m.key.slice(3), Date.now) : deps.cache.incr(m.key)).catch(() => {}); break;
        case 'log': deps.log(m.message); break;
        case 'failed': reject(new Error(`the pipeline thread could not start: ${m.message}`)); break;
        case 'stopped': break;
      }
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the pipeline thread exited with code ${code} while starting`)));
  });
  worker.on('error', (e) => deps.log(`pipeline thread error: ${e.message}`));

  return {
    id: 'aggregator',
    stats: () => ({ ...stats, newestEventTs: { ...stats.newestEventTs } }),
    async onShutdown() {
      if (exited) return;
      worker.postMessage({ type: 'stop' });
      const timeout = setTimeout(() => void worker.terminate(), 30_000);
      await stopped;
      clearTimeout(timeout);
    },
  };
}

/** The `aggregatorHooks` export of a module a test harness names (see startAppliance's hooksModule). */
export async function loadAggregatorHooks(url: string): Promise<AggregatorHooks> {
  return ((await import(url)) as { aggregatorHooks: AggregatorHooks }).aggregatorHooks;
}
