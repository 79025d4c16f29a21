/** Runs in the pipeline thread (see pipeline-thread.ts): archiver, aggregator and maintenance on their own connection. */
import { parentPort, workerData } from 'node:worker_threads';
import type { AlmanacConfig } from './config.ts';
import type { Cache } from '../../core/ports/index.ts';
import { loadAggregatorHooks, type FromWorker } from './pipeline-thread.ts';
import { openEmbeddedStorage } from '../storage/embedded/index.ts';
import { sqlitePath } from './profiles.ts';
import { startArchiver } from '../../pipeline/archiver.ts';
import { startAggregator } from '../../pipeline/aggregator.ts';
import { startMaintenance } from '../../pipeline/maintenance.ts';
import { LOGIC_VERSION } from '../../pipeline/logic-version.ts';

const port = parentPort!;
const send = (m: FromWorker) => port.postMessage(m);
const config = workerData.config as AlmanacConfig;
const hooksModule = workerData.hooksModule as string | undefined;
const log = (message: string) => send({ type: 'log', message });

try {
  // Appends come from the other thread, so there is no in-process wake-up: poll often instead.
  const storage = openEmbeddedStorage({ path: sqlitePath(config), partitions: config.partitions, logRetentionMs: config.pipeline.logRetentionHours * 3_600_000, pollIntervalMs: 20, onError: (e, where) => log(`${where}: ${(e as Error).message}`) });
  // Data-version bumps must reach the query cache in the main thread.
  const cache: Cache = { ...storage.cache, incr: async (key) => { send({ type: 'incr', key }); return 0; } };
  const archiver = await startArchiver({ eventLog: storage.eventLog, archive: storage.archive, log });
  const aggregator = await startAggregator(
    { eventLog: storage.eventLog, rollups: storage.rollups, cache, log, registry: storage.registry, archive: storage.archive, hooks: hooksModule === undefined ? undefined : await loadAggregatorHooks(hooksModule) },
    { ...config.pipeline, logicVersion: LOGIC_VERSION, maxEventAgeHours: config.collector.maxEventAgeHours },
  );
  const maintenance = startMaintenance(
    { rollups: storage.rollups, archive: storage.archive, registry: storage.registry, trimLog: () => storage.eventLog.trim(), log },
    { ...config.pipeline, maxEventAgeHours: config.collector.maxEventAgeHours, intervalMs: 10 * 60_000 },
  );
  const timer = setInterval(() => send({ type: 'stats', stats: aggregator.stats() }), 100);
  port.on('message', async (m: { type: string }) => {
    if (m.type !== 'stop') return;
    clearInterval(timer);
    await maintenance.onShutdown();
    await aggregator.onShutdown();
    await archiver.onShutdown();
    send({ type: 'stats', stats: aggregator.stats() });
    await storage.close();
    send({ type: 'stopped' });
    port.close();
  });
  send({ type: 'ready' });
} catch (error) {
  send({ type: 'failed', message: (error as Error).message });
}
