/**
 * The node's HTTP server: one port carrying the roles this node runs — the collector, the stats
 * API, and the admin status route — plus /healthz and the OpenAPI document.
 */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { AlmanacConfig } from '../main/config.ts';
import { REQUIRED_SERVICES, type Storage } from '../main/profiles.ts';
import { AGGREGATOR_GROUP, type Aggregator, type AggregatorStats } from '../../pipeline/aggregator.ts';
import { openApiDocument } from './openapi.ts';
import { registerMethodRouting } from './method-routing.ts';
import { createCollector } from '../../collectors/http.ts';
import { resolveCollectorConfig } from '../../collectors/config.ts';
import { createQueryService, resolveQueryConfig } from '../../query/index.ts';
import { adminRoutes } from './admin-guard.ts';
import { registerEmbedRoutes } from './embed-routes.ts';
import { registerConsole } from './console-route.ts';
import { registerAdminApi } from '../trpc/mount.ts';
import { sumAggregatorStats, sumIngest, type IngestTotals } from '../main/process-totals.ts';
import { cancelReplay, describeReplay, getReplay, listReplays, startReplay, startReplayInput } from '../../control/replays.ts';
import { parseInput } from '../../control/validate.ts';

export interface HttpDeps {
  storage: Storage;
  aggregator?: Aggregator;
  /** Role → ready, shared with the supervisor. */
  ready: Map<string, boolean>;
  /** This process's heartbeat key (cluster): its own counters are read live, not from its heartbeat. */
  instanceId?: string;
  log: (message: string) => void;
}

export interface HttpServer {
  id: 'http';
  app: FastifyInstance;
  /** This process's ingest counters since start (collector role), for the heartbeat. */
  ingest(): IngestTotals | null;
  listen(): Promise<string>;
  onShutdown(): Promise<void>;
}

export async function buildHttpServer(config: Readonly<AlmanacConfig>, deps: HttpDeps): Promise<HttpServer> {
  const { storage } = deps;
  const app = Fastify({ logger: false, trustProxy: config.collector.trustProxy, bodyLimit: config.collector.maxBodyBytes });
  registerMethodRouting(app); // before any route: it learns the route table from onRoute
  const stops: (() => Promise<void>)[] = [];
  let ingestCounters: (() => IngestTotals) | undefined;

  // Ready means: every role of this node started, and every service those roles cannot work
  // without answers. A service a role can do without (Redis: local rate limits, uncached
  // queries) makes the node "degraded", still 200, so a load balancer keeps it in rotation.
  app.get('/healthz', async (_req, reply) => {
    const services = await storage.ping().catch(() => ({}) as Record<string, boolean>);
    const roles = Object.fromEntries(deps.ready);
    const needed = new Set(config.roles.flatMap((role) => REQUIRED_SERVICES[role]));
    const down = Object.entries(services).filter(([, up]) => !up).map(([name]) => name);
    const unavailable = down.filter((name) => needed.has(name));
    const started = Object.values(roles).every(Boolean);
    const status = !started ? 'starting' : unavailable.length > 0 ? 'unavailable' : down.length > 0 ? 'degraded' : 'ok';
    return reply.code(status === 'ok' || status === 'degraded' ? 200 : 503).send({ status, roles, services, ...(down.length ? { down } : {}) });
  });

  const queryLimits = resolveQueryConfig({ ...config.query });
  const openapi = openApiDocument(config.publicUrl, { maxBreakdownLimit: queryLimits.maxBreakdownLimit, maxRangeDays: queryLimits.maxRangeDays, maxEventAgeHours: config.collector.maxEventAgeHours, maxBodyBytes: resolveCollectorConfig({ ...config.collector }).maxBodyBytes });
  app.get('/api/openapi.json', async () => openapi);

  if (config.roles.includes('collector')) {
    const collector = createCollector(
      { eventLog: storage.eventLog, registry: storage.registry, rateLimiter: storage.rateLimiter, log: deps.log },
      { ...config.collector },
    );
    await collector.register(app);
    stops.push(() => collector.stop());
    ingestCounters = () => collector.counters.snapshot();
  }

  if (config.roles.includes('query')) {
    const query = createQueryService(
      // newestEventTs: meta.dataAsOf from the in-process aggregator when this node runs it.
      { rollups: storage.rollups, cache: storage.cache, registry: storage.registry, newestEventTs: () => deps.aggregator?.stats().newestEventTs },
      { ...config.query },
    );
    await query.register(app);
  }
  if (config.roles.includes('query')) await registerEmbedRoutes(app, { registry: storage.registry, rateLimiter: storage.rateLimiter, publicUrl: config.publicUrl, admin: config.roles.includes('admin'), log: deps.log });

  if (config.roles.includes('admin')) {
    await registerAdminApi(app, { ...storage, newestEventTs: () => deps.aggregator?.stats().newestEventTs, publicUrl: config.publicUrl, profile: config.profile, log: deps.log });
    await registerConsole(app, { log: deps.log }); // the admin console's renderer at /console
    // REST admin routes (admin API key): operational status for automation, and replays.
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
        profile: config.profile,
        partitions: storage.eventLog.partitions,
        aggregatorLag: end.map((e, i) => e - (committed[i] ?? 0)),
        /** Summed over the live aggregator processes (instances: how many). */
        aggregator: sumAggregatorStats([deps.aggregator?.stats(), ...others.map((o) => o.aggregator as AggregatorStats | undefined)]),
        /** Since each live process started, per tracking ID: accepted, rejected:<code>, bot:<reason>, duplicate; summed over the collectors. */
        ingest: sumIngest([ingestCounters?.(), ...others.map((o) => o.ingest as IngestTotals | undefined)]),
        /** Cluster: the appliance processes whose heartbeat has not expired, with their roles. */
        nodes: live ? live.map(({ id, info: { ingest: _i, aggregator: _a, ...info } }) => ({ id, info })) : null,
      } };
    }));

    // Replays (control/replays.ts): start, list, show, cancel. The aggregators run the jobs.
    const id = (req: FastifyRequest) => (req.params as { id: string }).id;
    app.get('/api/admin/replays', admin(async () => ({ body: { replays: (await listReplays(storage.registry, { limit: 100 })).map(describeReplay) } })));
    app.post('/api/admin/replays', admin(async (req) => ({ status: 201, body: describeReplay(await startReplay(storage.registry, parseInput(startReplayInput, req.body), { eventLog: storage.eventLog })) })));
    app.get('/api/admin/replays/:id', admin(async (req) => ({ body: describeReplay(await getReplay(storage.registry, id(req))) })));
    app.post('/api/admin/replays/:id/cancel', admin(async (req) => ({ body: describeReplay(await cancelReplay(storage.registry, id(req))) })));
  }

  return {
    id: 'http',
    app,
    ingest: () => ingestCounters?.() ?? null,
    async listen() {
      await app.listen({ port: config.port, host: config.host });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
      return `http://${host}:${port}`;
    },
    async onShutdown() {
      await app.close();
      for (const stop of stops) await stop();
    },
  };
}
