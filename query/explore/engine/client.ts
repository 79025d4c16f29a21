/**
 * The explore engine as the query role uses it: a DuckDB instance on its own worker thread
 * (worker.ts), so a long scan never blocks the event loop. Statements beyond the worker's
 * connections wait in a bounded queue; past it the answer is EngineError 'engine_busy'.
 */
import { Worker } from 'node:worker_threads';
import type { SegmentEventRow, SegmentVisitRow } from '../../../core/segments/schema.ts';
import type { EngineSettings, FromWorker, ToWorker } from './protocol.ts';
import { EngineError, type EngineParam, type EngineRow, type EngineRunOptions, type ExploreEngine } from './types.ts';

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };
type Request = ToWorker extends infer T ? (T extends { id: number } ? Omit<T, 'id'> : never) : never;

export async function startExploreEngine(settings: EngineSettings): Promise<ExploreEngine> {
  const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), { workerData: settings });
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let statements = 0;
  let closed: EngineError | null = null;

  await new Promise<void>((resolve, reject) => {
    const onExit = (code: number) => reject(new Error(`the explore engine exited with code ${code} while starting`));
    worker.once('exit', onExit);
    worker.once('error', reject);
    worker.once('message', (m: FromWorker) => {
      worker.off('exit', onExit);
      worker.off('error', reject);
      if ('type' in m && m.type === 'ready') resolve();
      else reject(new Error(`the explore engine could not start: ${'message' in m ? m.message : 'no reason given'}. Check ALMANAC_EXPLORE_* settings (memory, threads) and that the data folder is writable.`));
    });
  });

  worker.on('message', (m: FromWorker) => {
    if (!('id' in m)) return;
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.ok) p.resolve(m.rows ?? m.value);
    else p.reject(new EngineError(m.code, m.message));
  });
  worker.on('exit', (code) => {
    closed ??= new EngineError('engine_failed', `the explore engine stopped (exit code ${code}); restart the query role`);
    for (const p of pending.values()) p.reject(closed);
    pending.clear();
  });

  function send<T>(request: Request): Promise<T> {
    if (closed) return Promise.reject(closed);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ ...request, id } as ToWorker);
    });
  }

  return {
    async run(sql: string, params: readonly EngineParam[], options: EngineRunOptions = {}): Promise<EngineRow[]> {
      if (statements >= settings.concurrency + settings.queueDepth) {
        throw new EngineError('engine_busy', `the explore engine already has ${statements} queries running or waiting; retry in a moment`);
      }
      statements++;
      try {
        return await send<EngineRow[]>({ op: 'run', sql, params: [...params], timeoutMs: options.timeoutMs ?? settings.timeoutMs });
      } finally {
        statements--;
      }
    },
    replaceTail(trackingId: string, rows: { events: SegmentEventRow[]; visits: SegmentVisitRow[] }): Promise<void> {
      return send<void>({ op: 'replaceTail', trackingId, events: rows.events, visits: rows.visits });
    },
    checkRegex(pattern: string): Promise<string | null> {
      return send<string | null>({ op: 'checkRegex', pattern });
    },
    memory(): Promise<{ currentBytes: number; peakBytes: number }> {
      return send({ op: 'memory' });
    },
    async close(): Promise<void> {
      if (closed) return;
      const done = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      await send<void>({ op: 'close' }).catch(() => {});
      closed = new EngineError('engine_closed', 'the explore engine was closed');
      const timer = setTimeout(() => void worker.terminate(), 5_000);
      await done;
      clearTimeout(timer);
    },
  };
}
