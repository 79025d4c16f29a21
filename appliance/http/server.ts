/**
 * The node's HTTP server: one port carrying the roles this node runs — the collector, the stats
 * API with the dashboard embed routes, and the admin API, REST routes and console — plus /healthz
 * and the OpenAPI document.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { AlmanacConfig } from '../main/config.ts';
import type { Storage } from '../main/profiles.ts';
import type { Aggregator } from '../../pipeline/aggregator.ts';
import { openApiDocument } from './openapi.ts';
import { registerMethodRouting } from './method-routing.ts';
import { createCollector } from '../../collectors/http.ts';
import { resolveCollectorConfig } from '../../collectors/config.ts';
import { createQueryService, resolveQueryConfig } from '../../query/index.ts';
import { registerHealthz } from './healthz.ts';
import { registerAdminRoutes } from './admin-routes.ts';
import { registerEmbedRoutes } from './embed-routes.ts';
import { registerConsole } from './console-route.ts';
import { registerAdminApi } from '../trpc/mount.ts';
import type { IngestTotals } from '../main/process-totals.ts';

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

  registerHealthz(app, { storage, roles: config.roles, ready: deps.ready });

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
    registerAdminRoutes(app, { storage, profile: config.profile, aggregator: deps.aggregator, instanceId: deps.instanceId, ingest: () => ingestCounters?.() });
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
