/**
 * The REST admin routes (admin API key, see admin-guard.ts): operational status for automation,
 * and replays, thin over control/replays.ts (the aggregators run the jobs). The embed-token admin
 * routes are in embed-routes.ts.
 *
 *   GET  /api/admin/status                 event log lag, aggregator, ingest counters, live nodes
 *   GET  /api/admin/replays                the newest 100 replay jobs
 *   POST /api/admin/replays                body StartReplayInput -> 201 the queued job
 *   GET  /api/admin/replays/:id            one job
 *   POST /api/admin/replays/:id/cancel     cancel a queued or running job
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Aggregator, AggregatorStats } from '../../pipeline/aggregator.ts';
import { AGGREGATOR_GROUP } from '../../core/consumer-groups.ts';
import { cancelReplay, describeReplay, getReplay, listReplays, startReplay, startReplayInput } from '../../control/replays.ts';
import { parseInput } from '../../control/validate.ts';
import type { Storage } from '../main/profiles.ts';
import { sumAggregatorStats, sumIngest, type IngestTotals } from '../main/process-totals.ts';
import { adminRoutes } from './admin-guard.ts';

export interface AdminRouteDeps {
  storage: Pick<Storage, 'registry' | 'eventLog' | 'nodes'>;
  profile: 'embedded' | 'cluster';
  aggregator?: Aggregator;
  /** This process's heartbeat key (cluster): its own counters are read live, not from its heartbeat. */
  instanceId?: string;
  /** This process's ingest counters (collector role). */
  ingest: () => IngestTotals | undefined;
}

export function registerAdminRoutes(app: FastifyInstance, deps: AdminRouteDeps): void {
  const { storage } = deps;
  const admin = adminRoutes(storage.registry);
  app.get('/api/admin/status', admin(async () => {
    const [end, committed, live] = await Promise.all([
      storage.eventLog.endOffsets(),
      storage.eventLog.committedOffsets(AGGREGATOR_GROUP),
      storage.nodes ? storage.nodes.liveNodes().catch(() => null) : null,
    ]);
    // Cluster: this process live, every other live process as of its last heartbeat (≤ 5 s old);
    // Redis unreachable: this process only. Embedded: this process is the appliance.
    const others = (live ?? []).filter((n) => n.id !== deps.instanceId).map((n) => n.info);
    return { body: {
      profile: deps.profile,
      partitions: storage.eventLog.partitions,
      aggregatorLag: end.map((e, i) => e - (committed[i] ?? 0)),
      /** Summed over the live aggregator processes (instances: how many). */
      aggregator: sumAggregatorStats([deps.aggregator?.stats(), ...others.map((o) => o.aggregator as AggregatorStats | undefined)]),
      /** Since each live process started, per tracking ID: accepted, rejected:<code>, bot:<reason>, duplicate; summed over the collectors. */
      ingest: sumIngest([deps.ingest(), ...others.map((o) => o.ingest as IngestTotals | undefined)]),
      /** Cluster: the appliance processes whose heartbeat has not expired, with their roles. */
      nodes: live ? live.map(({ id, info: { ingest: _i, aggregator: _a, ...info } }) => ({ id, info })) : null,
    } };
  }));

  const id = (req: FastifyRequest) => (req.params as { id: string }).id;
  app.get('/api/admin/replays', admin(async () => ({ body: { replays: (await listReplays(storage.registry, { limit: 100 })).map(describeReplay) } })));
  app.post('/api/admin/replays', admin(async (req) => ({ status: 201, body: describeReplay(await startReplay(storage.registry, parseInput(startReplayInput, req.body), { eventLog: storage.eventLog })) })));
  app.get('/api/admin/replays/:id', admin(async (req) => ({ body: describeReplay(await getReplay(storage.registry, id(req))) })));
  app.post('/api/admin/replays/:id/cancel', admin(async (req) => ({ body: describeReplay(await cancelReplay(storage.registry, id(req))) })));
}
