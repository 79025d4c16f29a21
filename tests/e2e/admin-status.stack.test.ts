/**
 * The bug: /api/admin/status of a supervised cluster node showed the ingest counters of whichever
 * collector worker answered (two calls alternated between 10,512 and 10,466 of 20,978) and
 * `aggregator: null` (the aggregator runs in a worker of its own). Now every answer adds up the
 * live processes of the cluster (their heartbeats in Redis; appliance/main/process-totals.ts).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { loadConfig } from '../../appliance/main/config.ts';
import { openStorage, type Storage } from '../../appliance/main/profiles.ts';
import type { ScalingRegistry } from '../../core/ports/index.ts';
import { freshNamespace, type Namespace } from '../support/cluster.ts';
import { startSupervisor, type SupervisorProcess } from '../support/supervisor.ts';
import { getJson, pool, waitFor } from '../support/appliance.ts';

const stackUp = Boolean(process.env.ALMANAC_KAFKA_BROKERS && process.env.ALMANAC_MONGO_URL && process.env.ALMANAC_CASSANDRA_CONTACT_POINTS && process.env.ALMANAC_REDIS_URL);
const BATCHES = 24;
const PER_BATCH = 25; // 600 events, under the first tenant's burst (2 × 1000/s)

let ns: Namespace | undefined;
let storage: Storage | undefined;
let node: SupervisorProcess | undefined;
const dir = mkdtempSync(path.join(os.tmpdir(), 'almanac-status-'));
after(async () => {
  await node?.stop('SIGKILL').catch(() => {});
  await storage?.close().catch(() => {});
  await ns?.drop();
  rmSync(dir, { recursive: true, force: true });
});

test('status of a node with two collector workers: ingest summed over both, aggregator stats from its worker', { skip: !stackUp, timeout: 240_000 }, async () => {
  ns = freshNamespace('status');
  const nodeId = `status-${ns.name}`;
  const env = { ...ns.env, ALMANAC_NODE_ID: nodeId, ALMANAC_RECONCILE_INTERVAL_MS: '500' };
  storage = await openStorage(loadConfig({ ...process.env, ...env, ALMANAC_DATA_DIR: dir }));
  const scaling = storage.registry;
  await scaling.setDesiredScale(nodeId, { collector: 2, archiver: 1, aggregator: 1, query: 0 });

  node = await startSupervisor(env);
  const { adminApiKey, trackingId, serverKey } = node.credentials();
  const status = async () => (await getJson(`${node!.url}/api/admin/status`, adminApiKey)).body;
  const collectors = async () => ((await status()).nodes ?? []).filter((n: any) => n.info.roles.includes('collector')).length;
  assert.ok(await waitFor(async () => (await collectors()) === 2, 60_000), 'two collector workers alive');

  // Several connections at once: the node's primary hands them to its workers in turn.
  await pool(Array.from({ length: BATCHES }, (_, i) => i), 6, async () => {
    const res = await fetch(`${node!.url}/api/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-almanac-key': serverKey },
      body: JSON.stringify(Array.from({ length: PER_BATCH }, () => ({ eventId: randomUUID(), trackingId, url: 'https://shop.example/' }))),
    });
    assert.equal(res.status, 202, await res.text());
  });
  const total = BATCHES * PER_BATCH;

  // Both workers took part (their heartbeats), so one worker's answer alone could not be right.
  const redis = new Redis(process.env.ALMANAC_REDIS_URL!);
  try {
    assert.ok(await waitFor(async () => {
      const keys = await redis.keys(`${ns!.name}:nodes:*`);
      const infos = (await Promise.all(keys.map((k) => redis.get(k)))).map((v) => JSON.parse(v ?? '{}'));
      return infos.filter((i) => (i.ingest?.[trackingId]?.accepted ?? 0) > 0).length === 2;
    }, 20_000), 'both collector workers accepted events');
  } finally {
    redis.disconnect();
  }

  let last: any;
  const settled = await waitFor(async () => {
    last = await status();
    return last.ingest?.[trackingId]?.accepted === total && last.aggregator?.processed === total;
  }, 60_000, 500);
  assert.ok(settled, `status never added up to ${total}: ${JSON.stringify({ ingest: last?.ingest, aggregator: last?.aggregator })}`);
  // Every answer now, whichever worker gives it.
  for (let i = 0; i < 6; i++) {
    const s = await status();
    assert.equal(s.ingest[trackingId].accepted, total);
    assert.equal(s.aggregator.processed, total);
    assert.equal(s.aggregator.instances, 1);
  }
});
