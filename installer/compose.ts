/**
 * The compose file, as data. One file serves both layouts through compose profiles: `small` runs
 * every role in one `almanac` container, `large` runs collector, pipeline, query and admin
 * services apart; the `.env` the installer writes picks one (COMPOSE_PROFILES) and carries the
 * sizing and the secrets. The file itself holds no secret: only `${VAR}` references that compose
 * fills from `.env` when it runs, and `${VAR:?…}` makes compose refuse to start without them.
 */
import { IMAGES } from './images.ts';
import { Document, isScalar, visit } from 'yaml';
import type { ProfileName } from './sizing.ts';

export const DOCSTORES = ['ferretdb', 'mongodb'] as const;

/** What the compose file is made of. */
export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue | undefined };

/**
 * Every string double-quoted with JSON escapes, so no value can turn into a number, a boolean or a
 * tag by accident ("no", "08", "1e3"); keys plain when they match PLAIN_KEY, quoted otherwise; no
 * line folding.
 */
const YAML_OPTIONS = { defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN', doubleQuotedAsJSON: true, lineWidth: 0 } as const;
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_.\-/]*$/;
export type Docstore = (typeof DOCSTORES)[number];

export interface ComposeInputs {
  docstore: Docstore;
}

/** The Almanac services of each layout, in the order a rolling restart takes them. */
export const ALMANAC_SERVICES: Readonly<Record<ProfileName, readonly string[]>> = {
  small: ['almanac'],
  // Pipeline first (nothing is lost while it restarts: the log holds the events), then query and
  // admin, collectors last and one container at a time behind the load balancer.
  large: ['pipeline', 'query', 'admin', 'collector'],
};

/** The service that runs the admin role (first tenant, credentials, console). */
export function adminService(profile: ProfileName): string {
  return profile === 'small' ? 'almanac' : 'admin';
}

export const DATA_SERVICES = ['kafka', 'docstore', 'cassandra', 'redis'] as const;
export const APP_PORT = 8420;
/** Where the Almanac containers keep credentials.json (the `almanac-data` volume). */
export const APP_DATA_DIR = '/data';

const need = (name: string) => `\${${name}:?missing in .env - run almanac-install generate}`;

const LOGGING = { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '5' } };

const HEALTH_JS = `fetch('http://127.0.0.1:${APP_PORT}/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`;

function mongoUrl(docstore: Docstore): string {
  return docstore === 'mongodb'
    ? `mongodb://almanac:${need('ALMANAC_MONGO_PASSWORD')}@docstore:27017/almanac?authSource=admin`
    : 'mongodb://docstore:27017/almanac';
}

/** Settings every Almanac container shares: the ALMANAC_* variables appliance/main/config.ts reads. */
function almanacEnv(docstore: Docstore, roles?: string): Record<string, string> {
  return {
    ALMANAC_PROFILE: 'cluster',
    ...(roles ? { ALMANAC_ROLES: roles } : {}),
    ALMANAC_HOST: '0.0.0.0',
    ALMANAC_PORT: String(APP_PORT),
    ALMANAC_DATA_DIR: APP_DATA_DIR,
    ALMANAC_PUBLIC_URL: need('ALMANAC_PUBLIC_URL'),
    // Behind HAProxy: the client address comes from X-Forwarded-For.
    ALMANAC_TRUST_PROXY: 'true',
    ALMANAC_PARTITIONS: need('ALMANAC_PARTITIONS'),
    ALMANAC_KAFKA_BROKERS: 'kafka:9092',
    ALMANAC_MONGO_URL: mongoUrl(docstore),
    ALMANAC_CASSANDRA_CONTACT_POINTS: 'cassandra:9042',
    ALMANAC_CASSANDRA_DATACENTER: 'datacenter1',
    ALMANAC_REDIS_URL: `redis://:${need('ALMANAC_REDIS_PASSWORD')}@redis:6379`,
  };
}

const healthy = { condition: 'service_healthy' };

function almanacService(docstore: Docstore, opts: { name: string; roles?: string; profile: ProfileName; memoryVar: string; replicasVar?: string; dataVolume?: boolean }): Record<string, YamlValue> {
  return {
    image: `${need('ALMANAC_IMAGE')}:${need('ALMANAC_VERSION')}`,
    profiles: [opts.profile],
    // A single-container service keeps its node name (ALMANAC_NODE_ID defaults to <hostname>-<port>)
    // across re-creation, so the console shows one node, not one per upgrade. Replicas keep the
    // container's own hostname: one name each.
    ...(opts.replicasVar ? {} : { hostname: opts.name }),
    init: true,
    restart: 'unless-stopped',
    environment: almanacEnv(docstore, opts.roles),
    depends_on: {
      migrate: { condition: 'service_completed_successfully' },
      kafka: healthy, docstore: healthy, cassandra: healthy,
      // The appliance runs without Redis (degraded: local rate limits, uncached queries); waiting
      // for it at start only keeps the first minutes simple.
      redis: healthy,
    },
    ...(opts.dataVolume ? { volumes: [`almanac-data:${APP_DATA_DIR}`] } : {}),
    networks: ['frontend', 'backend'],
    healthcheck: { test: ['CMD', 'node', '-e', HEALTH_JS], interval: '10s', timeout: '5s', retries: 3, start_period: '90s' },
    // SIGTERM: batches in flight are finished and committed before the process exits.
    stop_grace_period: '45s',
    deploy: {
      ...(opts.replicasVar ? { replicas: need(opts.replicasVar) } : {}),
      resources: { limits: { memory: need(opts.memoryVar) } },
    },
    logging: LOGGING,
  };
}

function docstoreService(docstore: Docstore): Record<string, YamlValue> {
  if (docstore === 'mongodb') {
    return {
      image: IMAGES.mongodb,
      restart: 'unless-stopped',
      environment: { MONGO_INITDB_ROOT_USERNAME: 'almanac', MONGO_INITDB_ROOT_PASSWORD: need('ALMANAC_MONGO_PASSWORD') },
      volumes: ['docstore-data:/data/db'],
      networks: ['backend'],
      healthcheck: { test: ['CMD-SHELL', "mongosh --quiet --eval 'db.adminCommand({ ping: 1 }).ok' | grep -q 1"], interval: '10s', timeout: '10s', retries: 10, start_period: '30s' },
      deploy: { resources: { limits: { memory: need('ALMANAC_MEM_DOCSTORE') } } },
      logging: LOGGING,
    };
  }
  return {
    image: IMAGES.ferretdb,
    restart: 'unless-stopped',
    environment: {
      FERRETDB_HANDLER: 'sqlite',
      FERRETDB_SQLITE_URL: 'file:/state/',
      FERRETDB_LISTEN_ADDR: ':27017',
      FERRETDB_TELEMETRY: 'disable',
    },
    volumes: ['docstore-data:/state'],
    // FerretDB v1's SQLite backend has no authentication: the store is reachable only on the
    // internal `backend` network, never published.
    networks: ['backend'],
    healthcheck: { test: ['CMD', '/ferretdb', 'ping'], interval: '10s', timeout: '5s', retries: 10, start_period: '10s' },
    deploy: { resources: { limits: { memory: need('ALMANAC_MEM_DOCSTORE') } } },
    logging: LOGGING,
  };
}

export function buildCompose(inputs: ComposeInputs): Record<string, YamlValue> {
  const { docstore } = inputs;
  return {
    name: '${COMPOSE_PROJECT_NAME:-almanac}',
    services: {
      kafka: {
        image: IMAGES.kafka,
        restart: 'unless-stopped',
        environment: {
          CLUSTER_ID: need('ALMANAC_KAFKA_CLUSTER_ID'),
          KAFKA_NODE_ID: '1',
          KAFKA_PROCESS_ROLES: 'broker,controller',
          KAFKA_LISTENERS: 'PLAINTEXT://:9092,CONTROLLER://:9093',
          KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://kafka:9092',
          KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
          KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
          KAFKA_CONTROLLER_QUORUM_VOTERS: '1@kafka:9093',
          KAFKA_INTER_BROKER_LISTENER_NAME: 'PLAINTEXT',
          KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
          KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
          KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
          KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
          KAFKA_NUM_PARTITIONS: need('ALMANAC_PARTITIONS'),
          KAFKA_LOG_DIRS: '/var/lib/kafka/data',
          KAFKA_HEAP_OPTS: `-Xms${need('ALMANAC_KAFKA_HEAP')} -Xmx${need('ALMANAC_KAFKA_HEAP')}`,
        },
        volumes: ['kafka-data:/var/lib/kafka/data'],
        networks: ['backend'],
        healthcheck: {
          test: ['CMD-SHELL', '/opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server localhost:9092 >/dev/null 2>&1'],
          interval: '10s', timeout: '20s', retries: 12, start_period: '30s',
        },
        stop_grace_period: '60s',
        deploy: { resources: { limits: { memory: need('ALMANAC_MEM_KAFKA') } } },
        logging: LOGGING,
      },
      docstore: docstoreService(docstore),
      cassandra: {
        image: IMAGES.cassandra,
        restart: 'unless-stopped',
        environment: {
          CASSANDRA_CLUSTER_NAME: 'almanac',
          CASSANDRA_DC: 'datacenter1',
          CASSANDRA_RACK: 'rack1',
          CASSANDRA_ENDPOINT_SNITCH: 'GossipingPropertyFileSnitch',
          MAX_HEAP_SIZE: need('ALMANAC_CASSANDRA_HEAP'),
          HEAP_NEWSIZE: need('ALMANAC_CASSANDRA_NEWGEN'),
        },
        volumes: ['cassandra-data:/var/lib/cassandra'],
        // Cassandra 5 has no authentication by default and Almanac connects without credentials:
        // like the other stores it is reachable only on the internal `backend` network.
        networks: ['backend'],
        ulimits: { nofile: { soft: 100000, hard: 100000 }, memlock: { soft: -1, hard: -1 } },
        healthcheck: {
          test: ['CMD-SHELL', "cqlsh -e 'SELECT release_version FROM system.local' >/dev/null 2>&1"],
          interval: '15s', timeout: '15s', retries: 20, start_period: '120s',
        },
        stop_grace_period: '90s',
        deploy: { resources: { limits: { memory: need('ALMANAC_MEM_CASSANDRA') } } },
        logging: LOGGING,
      },
      redis: {
        image: IMAGES.redis,
        restart: 'unless-stopped',
        // Cache, rate limits and node liveness only: nothing to persist, so no volume and no
        // snapshots; keys with a TTL are evicted first when memory runs out.
        command: ['sh', '-c', `exec redis-server --requirepass "$$REDISCLI_AUTH" --save '' --appendonly no --maxmemory ${need('ALMANAC_REDIS_MAXMEMORY')} --maxmemory-policy volatile-lru`],
        environment: { REDISCLI_AUTH: need('ALMANAC_REDIS_PASSWORD') },
        networks: ['backend'],
        healthcheck: { test: ['CMD-SHELL', 'redis-cli ping | grep -q PONG'], interval: '5s', timeout: '5s', retries: 10, start_period: '5s' },
        deploy: { resources: { limits: { memory: need('ALMANAC_MEM_REDIS') } } },
        logging: LOGGING,
      },
      // One-shot: creates the Kafka topic, the Cassandra schema (versioned migrations) and the
      // registry indexes before any Almanac node starts, so nodes never race on schema changes.
      migrate: {
        image: `${need('ALMANAC_IMAGE')}:${need('ALMANAC_VERSION')}`,
        entrypoint: ['node', 'installer/bin/almanac-task.mjs'],
        command: ['migrate'],
        restart: 'no',
        environment: almanacEnv(docstore),
        depends_on: { kafka: healthy, docstore: healthy, cassandra: healthy, redis: healthy },
        networks: ['backend'],
        logging: LOGGING,
      },
      almanac: almanacService(docstore, { name: 'almanac', profile: 'small', memoryVar: 'ALMANAC_MEM_ALMANAC', dataVolume: true }),
      collector: almanacService(docstore, { name: 'collector', profile: 'large', roles: 'collector', memoryVar: 'ALMANAC_MEM_COLLECTOR', replicasVar: 'ALMANAC_REPLICAS_COLLECTOR' }),
      pipeline: almanacService(docstore, { name: 'pipeline', profile: 'large', roles: 'archiver,aggregator', memoryVar: 'ALMANAC_MEM_PIPELINE', replicasVar: 'ALMANAC_REPLICAS_PIPELINE' }),
      query: almanacService(docstore, { name: 'query', profile: 'large', roles: 'query', memoryVar: 'ALMANAC_MEM_QUERY', replicasVar: 'ALMANAC_REPLICAS_QUERY' }),
      // One admin node: it bootstraps the first tenant and serves the admin API and the console.
      admin: almanacService(docstore, { name: 'admin', profile: 'large', roles: 'admin', memoryVar: 'ALMANAC_MEM_ADMIN', dataVolume: true }),
      lb: {
        image: IMAGES.haproxy,
        restart: 'unless-stopped',
        ports: [`\${ALMANAC_HTTP_PORT:-8080}:8080`],
        volumes: ['./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro'],
        networks: ['frontend'],
        depends_on: Object.fromEntries(['almanac', 'collector', 'query', 'admin'].map((s) => [s, { condition: 'service_healthy', required: false }])),
        healthcheck: { test: ['CMD', 'bash', '-c', 'exec 3<>/dev/tcp/127.0.0.1/8080'], interval: '10s', timeout: '3s', retries: 3 },
        deploy: { resources: { limits: { memory: need('ALMANAC_MEM_LB') } } },
        logging: LOGGING,
      },
      // Not started with the appliance: `docker compose run --rm tools mongodump …` for backups.
      tools: {
        image: IMAGES.mongodb,
        profiles: ['tools'],
        entrypoint: [],
        environment: { ALMANAC_MONGO_URL: mongoUrl(docstore) },
        volumes: ['./backups:/backups'],
        networks: ['backend'],
      },
    },
    networks: {
      frontend: {},
      // No route out and nothing published: the stores are reachable from Almanac containers only.
      backend: { internal: true },
    },
    volumes: { 'kafka-data': {}, 'docstore-data': {}, 'cassandra-data': {}, 'almanac-data': {} },
  };
}

export function renderCompose(inputs: ComposeInputs): string {
  return toYaml(buildCompose(inputs), [
    'Almanac appliance — generated by almanac-install; edit the inputs and run `almanac-install generate` again.',
    `Document store: ${inputs.docstore}. Layout, sizing and secrets come from .env (COMPOSE_PROFILES=small|large).`,
  ].join('\n'));
}

/** YAML of the value with YAML_OPTIONS, the header as comment lines on top; an object used twice is written out twice (no anchors). */
export function toYaml(value: YamlValue, header?: string): string {
  const doc = new Document(value, { aliasDuplicateObjects: false });
  // On the root node rather than the document: no blank line between the header and the first key.
  visit(doc, {
    Scalar(_, node) {
      if (typeof node.value === 'number' && !Number.isFinite(node.value)) throw new Error(`cannot write ${node.value} to YAML`);
    },
    Pair(_, pair) {
      if (isScalar(pair.key) && !PLAIN_KEY.test(String(pair.key.value))) pair.key.type = 'QUOTE_DOUBLE';
    },
  });
  if (header && doc.contents) doc.contents.commentBefore = header.split('\n').map((line) => (line ? ` ${line}` : '')).join('\n');
  return doc.toString(YAML_OPTIONS);
}
