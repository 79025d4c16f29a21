/**
 * One appliance process that runs its roles itself. In the embedded profile it runs every role in this one
 * process (the cluster profile's supervisor of worker processes is appliance/scaling/node-supervisor.ts): storage, first-start bootstrap, the pipeline consumers and the HTTP server that carries
 * the collector, the stats API and the admin routes. Each running part exposes
 * `{ id, onShutdown }`, and stops in the reverse order it started.
 */
import type { AlmanacConfig, Role } from './config.ts';
import { openStorage, type Storage } from './profiles.ts';
import { ensureFirstTenant, FIRST_ADMIN_USERNAME, recoveryHint, type FirstStartResult } from './first-start.ts';
import { startArchiver } from '../../pipeline/archiver.ts';
import { startAggregator, type Aggregator } from '../../pipeline/aggregator.ts';
import { startMaintenance } from '../../pipeline/maintenance.ts';
import { LOGIC_VERSION } from '../../pipeline/logic-version.ts';
import { buildHttpServer } from '../http/server.ts';
import { loadAggregatorHooks, startPipelineThread } from './pipeline-thread.ts';
import { snippetFor } from '../../collectors/index.ts';
import { newInstanceId, startHeartbeat } from './heartbeat.ts';
import { startInProcessReport } from '../scaling/in-process-report.ts';
import { readSavedSettings, saveSettings } from './saved-settings.ts';
import path from 'node:path';

export interface RunningAppliance {
  url: string;
  storage: Storage;
  firstStart: FirstStartResult;
  aggregator?: Aggregator;
  stop(): Promise<void>;
}

interface Service {
  id: string;
  onShutdown(): Promise<void>;
}

export async function startAppliance(
  config: Readonly<AlmanacConfig>,
  opts: {
    log?: (message: string) => void;
    /** URL of a module exporting the aggregator's hooks (`aggregatorHooks`): set by test harnesses only. */
    hooksModule?: string;
  } = {},
): Promise<RunningAppliance> {
  const log = opts.log ?? (() => {});
  const has = (role: Role) => config.roles.includes(role);
  const services: Service[] = [];
  const ready = new Map<string, boolean>(config.roles.map((r) => [r, false]));

  const storage = await openStorage(config);
  services.push({ id: 'storage', onShutdown: () => storage.close() });
  try {
    // Only a node with the admin role bootstraps, so that roles started as separate processes
    // against one cluster do not each create a first tenant.
    const firstStart: FirstStartResult = has('admin')
      ? await ensureFirstTenant(storage.registry, { dataDir: config.dataDir, publicUrl: config.publicUrl, snippetFor })
      : { created: false, credentialsPath: path.join(config.dataDir, 'credentials.json') };

    let aggregator: Aggregator | undefined;
    if (config.profile === 'embedded' && config.pipeline.thread && has('archiver') && has('aggregator')) {
      aggregator = await startPipelineThread(config, { cache: storage.cache, log, hooksModule: opts.hooksModule });
      services.push(aggregator);
      ready.set('archiver', true);
      ready.set('aggregator', true);
    } else {
      if (has('archiver')) {
        services.push(await startArchiver({ eventLog: storage.eventLog, archive: storage.archive, log }));
        ready.set('archiver', true);
      }
      if (has('aggregator')) {
        const hooks = opts.hooksModule === undefined ? undefined : await loadAggregatorHooks(opts.hooksModule);
        aggregator = await startAggregator(
          { eventLog: storage.eventLog, rollups: storage.rollups, cache: storage.cache, log, registry: storage.registry, archive: storage.archive, hooks },
          { ...config.pipeline, logicVersion: LOGIC_VERSION, maxEventAgeHours: config.collector.maxEventAgeHours },
        );
        services.push(aggregator);
        services.push(startMaintenance(
          { rollups: storage.rollups, archive: storage.archive, registry: storage.registry, trimLog: storage.trimLog, log },
          { ...config.pipeline, maxEventAgeHours: config.collector.maxEventAgeHours, intervalMs: 10 * 60_000 },
        ));
        ready.set('aggregator', true);
      }
    }

    const instanceId = newInstanceId();
    const http = await buildHttpServer(config, { storage, aggregator, ready, log, instanceId });
    services.push(http);
    // After the HTTP server: the heartbeat carries its ingest counters (and stops before it).
    if (storage.nodes) {
      services.push(startHeartbeat(storage.nodes, config, log, {
        instanceId,
        counters: () => ({ ingest: http.ingest() ?? undefined, aggregator: aggregator?.stats() }),
      }));
    }
    const address = await http.listen();
    for (const role of ['collector', 'query', 'admin'] as const) if (has(role)) ready.set(role, true);

    // A worker of a supervised node leaves the node report to its supervisor (appliance/scaling).
    if (!config.node.workerOf) {
      services.push(startInProcessReport(storage.registry, { nodeId: config.node.id, url: address, roles: config.roles }, config.node.reconcileIntervalMs, log));
    }

    // The CLI beside this process reads the profile and the URL from here (a supervised node's
    // supervisor writes them for its workers; of separate role processes, the one with the traffic).
    if (!config.node.workerOf && (has('collector') || has('query') || !readSavedSettings(config.dataDir))) {
      saveSettings(config, publicUrlOf(config, address));
    }

    log(banner(config, address, firstStart));
    let stopped: Promise<void> | undefined;
    return {
      url: address,
      storage,
      firstStart,
      aggregator,
      stop: () => (stopped ??= shutdown(services, log)),
    };
  } catch (error) {
    await shutdown(services, log);
    throw error;
  }
}

async function shutdown(services: Service[], log: (m: string) => void): Promise<void> {
  for (const service of [...services].reverse()) {
    try {
      await service.onShutdown();
    } catch (error) {
      log(`${service.id}: error while stopping: ${(error as Error).message}`);
    }
  }
}

/** The URL to print: the configured public URL, unless it names port 0 (a free port was asked for). */
export function publicUrlOf(config: Pick<AlmanacConfig, 'publicUrl'>, address: string): string {
  return new URL(config.publicUrl).port === '0' ? address : config.publicUrl;
}

function banner(config: Readonly<AlmanacConfig>, address: string, first: FirstStartResult): string {
  const url = publicUrlOf(config, address);
  // Only a process that serves the collector or the stats API has URLs for them: the archiver and
  // aggregator workers of a supervised node listen on a free local port for /healthz only.
  const lines = [
    '',
    `Almanac is running (${config.profile} profile, roles: ${config.roles.join(', ')})`,
    ...(config.roles.includes('collector') ? [`  collector:  ${url}/api/event   (tracker: ${url}/tracker.js)`] : []),
    ...(config.roles.includes('query') ? [`  stats API:  ${url}/api/v1/stats/aggregate?site_id=<trackingId>&period=day`] : []),
    `  health:     ${address}/healthz     API contract: ${address}/api/openapi.json`,
    `  data:       ${config.dataDir}`,
  ];
  if (first.created && first.credentials) {
    const c = first.credentials;
    lines.push(
      '',
      'First start: created tenant "Default" with tracking ID ' + c.trackingId + '.',
      'Paste this snippet into your pages:',
      '',
      '  ' + c.snippet,
      '',
      `The tracking ID, its server key and an admin API key are in ${first.credentialsPath} (mode 600).`,
      'Read today\'s numbers with:',
      `  curl -H "Authorization: Bearer $(node -p "require('${first.credentialsPath}').adminApiKey")" "${c.statsUrl}/aggregate?site_id=${c.trackingId}&period=day"`,
    );
    if (!c.adminPassword) lines.push(`The console's admin user existed already; set its password with: almanac admin-users reset-password ${FIRST_ADMIN_USERNAME}`);
  } else if (first.missing) {
    lines.push('', recoveryHint(first, config));
  } else if (config.roles.includes('admin')) {
    lines.push(`  credentials of the first tenant: ${first.credentialsPath}`);
  }
  return lines.join('\n') + '\n';
}
