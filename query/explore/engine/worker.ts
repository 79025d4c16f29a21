/**
 * The explore engine's worker thread: owns one DuckDB instance (one memory limit for everything),
 * a pool of connections, the tail tables, and the cancel timers. Started by client.ts through
 * worker-entry.mjs; talks by the messages of protocol.ts.
 *
 * Locked down before the first query: only the configured folders are readable, nothing may be
 * written outside the spill folder, no extension is fetched, and the settings cannot be changed
 * by a statement afterwards (`lock_configuration`).
 */
import { parentPort, workerData } from 'node:worker_threads';
import fs from 'node:fs';
import path from 'node:path';
import { BIGINT, BOOLEAN, DOUBLE, DuckDBInstance, LIST, listValue, VARCHAR, type DuckDBConnection, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import { createTableSql, readNdjsonSql, toNdjson, columnList } from '../../../core/segments/ndjson.ts';
import type { SegmentEventRow, SegmentVisitRow } from '../../../core/segments/schema.ts';
import { TAIL_EVENTS, TAIL_VISITS, type EngineSettings, type FromWorker, type ToWorker } from './protocol.ts';
import type { EngineErrorCode, EngineParam, EngineRow } from './types.ts';

const DAY_MS = 86_400_000;

class Failure extends Error {
  constructor(readonly code: EngineErrorCode, message: string) { super(message); }
}

async function open(settings: EngineSettings): Promise<{ instance: DuckDBInstance; pool: DuckDBConnection[]; tail: DuckDBConnection }> {
  fs.mkdirSync(settings.tempDir, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:', {
    threads: String(settings.threads),
    memory_limit: `${settings.memoryMb}MB`,
    temp_directory: settings.tempDir,
    max_temp_directory_size: `${settings.tempMb}MB`,
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const setup = await instance.connect();
  await setup.run(createTableSql(TAIL_EVENTS, 'events', { tracking_id: 'VARCHAR', day: 'BIGINT' }));
  await setup.run(createTableSql(TAIL_VISITS, 'visits', { tracking_id: 'VARCHAR', day: 'BIGINT' }));
  const dirs = [...settings.readableDirs, settings.tempDir].map((d) => path.resolve(d) + '/');
  await setup.run(`SET allowed_directories = [${dirs.map((d) => `'${d.replace(/'/g, "''")}'`).join(', ')}]`);
  await setup.run('SET enable_external_access = false');
  await setup.run('SET lock_configuration = true');
  setup.closeSync();
  const pool: DuckDBConnection[] = [];
  for (let i = 0; i < settings.concurrency; i++) pool.push(await instance.connect());
  return { instance, pool, tail: await instance.connect() };
}

/** Bound values with their types given, so lists and NULLs never need inference. */
export function bindValues(params: readonly EngineParam[]): { values: DuckDBValue[]; types: DuckDBType[] } {
  const values: DuckDBValue[] = [];
  const types: DuckDBType[] = [];
  for (const p of params) {
    if (p === null) { values.push(null); types.push(VARCHAR); }
    else if (typeof p === 'string') { values.push(p); types.push(VARCHAR); }
    else if (typeof p === 'boolean') { values.push(p); types.push(BOOLEAN); }
    else if (typeof p === 'number') {
      if (Number.isSafeInteger(p)) { values.push(BigInt(p)); types.push(BIGINT); } else { values.push(p); types.push(DOUBLE); }
    } else if (p.listOf === 'BIGINT') {
      values.push(listValue(p.values.map((v) => BigInt(v)))); types.push(LIST(BIGINT));
    } else {
      values.push(listValue(p.values.map(String))); types.push(LIST(VARCHAR));
    }
  }
  return { values, types };
}

/** BigInt → number (refusing what a double cannot hold exactly), recursively through lists and maps. */
export function toPlain(v: unknown): unknown {
  if (typeof v === 'bigint') {
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw new Failure('engine_failed', `a result value (${v}) does not fit a JSON number`);
    return Number(v);
  }
  if (Array.isArray(v)) return v.map(toPlain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toPlain(x)]));
  return v;
}

function classify(e: unknown, timedOut: boolean): Failure {
  if (e instanceof Failure) return e;
  const message = e instanceof Error ? e.message : String(e);
  if (timedOut || /INTERRUPT/i.test(message)) return new Failure('query_timeout', message);
  return new Failure('engine_failed', message);
}

async function main(): Promise<void> {
  const settings = workerData as EngineSettings;
  const port = parentPort!;
  let engine: Awaited<ReturnType<typeof open>>;
  try {
    engine = await open(settings);
  } catch (e) {
    port.postMessage({ type: 'failed', message: e instanceof Error ? e.message : String(e) } satisfies FromWorker);
    return;
  }
  const idle = [...engine.pool];
  const waiting: (() => void)[] = [];
  let peakBytes = 0;
  let tailSerial = 0;
  let tailChain: Promise<unknown> = Promise.resolve();

  const reply = (m: FromWorker) => port.postMessage(m);

  async function withConnection<T>(deadline: number, fn: (c: DuckDBConnection, timedOut: () => boolean) => Promise<T>): Promise<T> {
    if (idle.length === 0) {
      await new Promise<void>((resolve, reject) => {
        const wake = () => { clearTimeout(timer); resolve(); };
        const timer = setTimeout(() => {
          const i = waiting.indexOf(wake);
          if (i >= 0) waiting.splice(i, 1);
          reject(new Failure('query_timeout', 'waited in the queue past the time limit'));
        }, Math.max(0, deadline - Date.now()));
        waiting.push(wake);
      });
    }
    const c = idle.pop()!;
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; c.interrupt(); }, Math.max(0, deadline - Date.now()));
    try {
      return await fn(c, () => timedOut);
    } finally {
      clearTimeout(timer);
      idle.push(c);
      waiting.shift()?.();
    }
  }

  async function run(m: Extract<ToWorker, { op: 'run' }>): Promise<EngineRow[]> {
    const deadline = Date.now() + m.timeoutMs;
    return withConnection(deadline, async (c, timedOut) => {
      try {
        const { values, types } = bindValues(m.params);
        const reader = await c.runAndReadAll(m.sql, values, types);
        const rows = reader.getRowObjectsJS().map((r) => toPlain(r) as EngineRow);
        void sampleMemory(c);
        return rows;
      } catch (e) {
        throw classify(e, timedOut());
      }
    });
  }

  async function sampleMemory(c: DuckDBConnection): Promise<number> {
    const r = await c.runAndReadAll('SELECT sum(memory_usage_bytes)::BIGINT AS b FROM duckdb_memory()');
    const current = Number((r.getRowObjectsJS()[0]?.b as bigint | null) ?? 0n);
    peakBytes = Math.max(peakBytes, current);
    return current;
  }

  async function replaceTail(m: Extract<ToWorker, { op: 'replaceTail' }>): Promise<void> {
    const c = engine.tail;
    const n = ++tailSerial;
    const files = { events: path.join(settings.tempDir, `tail-${n}-events.ndjson`), visits: path.join(settings.tempDir, `tail-${n}-visits.ndjson`) };
    try {
      fs.writeFileSync(files.events, toNdjson(m.events));
      fs.writeFileSync(files.visits, toNdjson(m.visits));
      await c.run('BEGIN TRANSACTION');
      try {
        await c.run(`DELETE FROM ${TAIL_EVENTS} WHERE tracking_id = $1`, [m.trackingId]);
        await c.run(`DELETE FROM ${TAIL_VISITS} WHERE tracking_id = $1`, [m.trackingId]);
        if (m.events.length > 0) await c.run(`INSERT INTO ${TAIL_EVENTS} SELECT $1, ts - ts % ${DAY_MS}, ${columnList('events')} FROM ${readNdjsonSql('events', files.events)}`, [m.trackingId]);
        if (m.visits.length > 0) await c.run(`INSERT INTO ${TAIL_VISITS} SELECT $1, start_ts - start_ts % ${DAY_MS}, ${columnList('visits')} FROM ${readNdjsonSql('visits', files.visits)}`, [m.trackingId]);
        await c.run('COMMIT');
      } catch (e) {
        await c.run('ROLLBACK').catch(() => {});
        throw e;
      }
    } finally {
      fs.rmSync(files.events, { force: true });
      fs.rmSync(files.visits, { force: true });
    }
  }

  async function handle(m: ToWorker): Promise<FromWorker> {
    switch (m.op) {
      case 'run': return { id: m.id, ok: true, rows: await run(m) };
      case 'replaceTail': {
        // One tail load at a time, in arrival order: the last replace of a site wins.
        const done = tailChain.then(() => replaceTail(m));
        tailChain = done.catch(() => {});
        await done;
        return { id: m.id, ok: true };
      }
      case 'checkRegex': {
        try {
          await run({ id: m.id, op: 'run', sql: "SELECT regexp_matches('', $1) AS ok", params: [m.pattern], timeoutMs: settings.timeoutMs });
          return { id: m.id, ok: true, value: null };
        } catch (e) {
          const message = e instanceof Error ? e.message : String(e);
          return { id: m.id, ok: true, value: message.replace(/^.*?Error:\s*/s, '') };
        }
      }
      case 'memory': {
        const current = await withConnection(Date.now() + settings.timeoutMs, (c) => sampleMemory(c));
        return { id: m.id, ok: true, value: { currentBytes: current, peakBytes } };
      }
      case 'close': {
        for (const c of [...engine.pool, engine.tail]) c.closeSync();
        engine.instance.closeSync();
        return { id: m.id, ok: true };
      }
    }
  }

  port.on('message', (m: ToWorker) => {
    handle(m).then(reply, (e: unknown) => {
      const f = classify(e, false);
      reply({ id: m.id, ok: false, code: f.code, message: f.message });
    }).finally(() => { if (m.op === 'close') port.close(); });
  });
  reply({ type: 'ready' });
}

void main();
