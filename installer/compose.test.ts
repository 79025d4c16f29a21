/**
 * The compose file and the image, checked without a Docker engine: the generated file parses as
 * YAML, validates against the Compose Specification's JSON schema (and `docker compose config`
 * when the compose plugin is installed), and its services, health checks, volumes, profiles and
 * environment are what the appliance needs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { Ajv } from 'ajv';
import { buildCompose, renderCompose, ALMANAC_SERVICES, DATA_SERVICES, DOCSTORES, type Docstore } from './compose.ts';
import { COLLECTOR_PATHS, renderHaproxyConfig } from './haproxy.ts';
import { dockerFiles, DOCKER_DIR } from './docker-files.ts';
import { parseEnvFile, renderEnvFile, resolveSecrets, type InstallSettings } from './env-file.ts';
import { IMAGES } from './images.ts';
import { PROFILES, type ProfileName } from './sizing.ts';
import { loadConfig } from '../appliance/main/config.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

type Service = {
  image: string; profiles?: string[]; restart?: string; healthcheck?: { test: string[] }; environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string; required?: boolean }>; volumes?: string[]; networks?: string[];
  deploy?: { replicas?: string; resources?: { limits?: { memory?: string } } }; entrypoint?: string[]; command?: string[]; ports?: string[];
};
type ComposeFile = { services: Record<string, Service>; volumes: Record<string, unknown>; networks: Record<string, { internal?: boolean }> };

const settings = (profile: ProfileName, docstore: Docstore): InstallSettings => ({
  profile, docstore, httpPort: 8080, publicUrl: 'https://analytics.example.com', image: 'ghcr.io/almanac-analytics/almanac', version: '0.1.0', projectName: 'almanac',
});

function envFor(profile: ProfileName, docstore: Docstore): Record<string, string> {
  return parseEnvFile(renderEnvFile(settings(profile, docstore), resolveSecrets({}, docstore)));
}

/** Compose's interpolation of ${VAR}, ${VAR:-default} and ${VAR:?error}, and $$ as a literal $. */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\{([A-Z_][A-Z0-9_]*)(?:(:-|:\?)([^}]*))?\}/g, (all, name: string | undefined, op: string | undefined, arg: string | undefined) => {
    if (all === '$$') return '$';
    const v = env[name!];
    if (v) return v;
    if (op === ':-') return arg ?? '';
    throw new Error(`compose would refuse to start: ${name} is not set (${arg})`);
  });
}

function resolved(profile: ProfileName, docstore: Docstore): ComposeFile {
  return parse(interpolate(renderCompose({ docstore }), envFor(profile, docstore))) as ComposeFile;
}

const active = (file: ComposeFile, profile: ProfileName) =>
  Object.entries(file.services).filter(([, s]) => !s.profiles || s.profiles.includes(profile));

test('docker/compose.yaml and docker/haproxy.cfg are what the installer generates', () => {
  for (const [name, content] of Object.entries(dockerFiles())) {
    assert.equal(readFileSync(path.join(DOCKER_DIR, name), 'utf8'), content, `docker/${name} is stale: run npm run docker:files`);
  }
});

test('the generated compose file is valid YAML equal to the model, and valid against the Compose Specification schema', () => {
  // The Compose Specification's schema, as shipped by the docker-compose npm package (a dev
  // dependency for this schema only). Its $schema URL is not one ajv registers; draft-07 is the default.
  const { $schema: _draft, ...schema } = JSON.parse(readFileSync(require.resolve('docker-compose/schema/compose-spec.json'), 'utf8'));
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  const validate = ajv.compile(schema);
  for (const docstore of DOCSTORES) {
    const text = renderCompose({ docstore });
    assert.deepEqual(parse(text), JSON.parse(JSON.stringify(buildCompose({ docstore }))));
    assert.ok(validate(parse(text)), `${docstore}: ${ajv.errorsText(validate.errors)}`);
    // The schema is checked after interpolation as well, where the types are final.
    for (const profile of PROFILES) assert.ok(validate(resolved(profile, docstore)), `${docstore}/${profile}: ${ajv.errorsText(validate.errors)}`);
  }
  // The schema must be able to fail: an unknown key and a wrong type are refused.
  assert.equal(validate({ services: { a: { image: 'x', restart_policy: 'always' } } }), false);
  assert.equal(validate({ services: { a: { image: 'x', depends_on: { b: { condition: 'service_happy' } } } } }), false);
});

test('`docker compose config` accepts the file for both layouts when the compose plugin is installed', (t) => {
  const probe = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    t.skip('no docker compose plugin on this machine: the schema check above stands in for it');
    return;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'almanac-compose-'));
  writeFileSync(path.join(dir, 'compose.yaml'), renderCompose({ docstore: 'ferretdb' }));
  writeFileSync(path.join(dir, 'haproxy.cfg'), renderHaproxyConfig());
  for (const profile of PROFILES) {
    writeFileSync(path.join(dir, '.env'), renderEnvFile(settings(profile, 'ferretdb'), resolveSecrets({}, 'ferretdb')));
    const r = spawnSync('docker', ['compose', '--project-directory', dir, 'config', '--quiet'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  }
});

test('each layout runs the data services, the migration, its Almanac services and the load balancer', () => {
  const file = resolved('small', 'ferretdb');
  const names = (profile: ProfileName) => active(file, profile).map(([n]) => n).filter((n) => n !== 'tools').sort();
  assert.deepEqual(names('small'), [...DATA_SERVICES, 'almanac', 'lb', 'migrate'].sort());
  assert.deepEqual(names('large'), [...DATA_SERVICES, 'admin', 'collector', 'lb', 'migrate', 'pipeline', 'query'].sort());
  assert.deepEqual(file.services.tools.profiles, ['tools'], 'the backup tools container never starts with the appliance');
  // The roles of the large layout together are every role, and no role runs twice.
  const roles = ALMANAC_SERVICES.large.flatMap((s) => file.services[s].environment!.ALMANAC_ROLES.split(','));
  assert.deepEqual([...roles].sort(), ['admin', 'aggregator', 'archiver', 'collector', 'query']);
  assert.equal(file.services.almanac.environment!.ALMANAC_ROLES, undefined, 'small: every role in one container');
});

test('every long-running service has a health check, a restart policy and a memory limit; start order follows health', () => {
  for (const docstore of DOCSTORES) {
    const file = resolved('large', docstore);
    for (const [name, s] of Object.entries(file.services)) {
      if (name === 'tools' || name === 'migrate') continue;
      assert.ok(s.healthcheck?.test?.length, `${name}: health check`);
      assert.equal(s.restart, 'unless-stopped', `${name}: restart policy`);
      assert.match(s.deploy?.resources?.limits?.memory ?? '', /^\d+[mg]$/, `${name}: memory limit`);
    }
    assert.equal(file.services.migrate.restart, 'no');
    for (const d of DATA_SERVICES) assert.equal(file.services.migrate.depends_on![d].condition, 'service_healthy');
    for (const app of [...ALMANAC_SERVICES.small, ...ALMANAC_SERVICES.large]) {
      const s = file.services[app];
      assert.equal(s.depends_on!.migrate.condition, 'service_completed_successfully', `${app} starts after the migration`);
      for (const d of DATA_SERVICES) assert.equal(s.depends_on![d].condition, 'service_healthy', `${app} waits for ${d}`);
      assert.ok(s.healthcheck!.test.join(' ').includes('/healthz'), `${app} is checked on /healthz`);
    }
    // The load balancer waits for whichever Almanac services the layout runs.
    for (const app of ['almanac', 'collector', 'query', 'admin']) assert.deepEqual(file.services.lb.depends_on![app], { condition: 'service_healthy', required: false });
  }
});

test('named volumes: every one used is declared, stateful services keep their data in one', () => {
  for (const docstore of DOCSTORES) {
    const file = resolved('small', docstore);
    const used = Object.values(file.services).flatMap((s) => s.volumes ?? []).map((v) => v.split(':')[0]).filter((v) => !v.startsWith('.'));
    for (const v of used) assert.ok(v in file.volumes, `volume ${v} declared`);
    assert.deepEqual(Object.keys(file.volumes).sort(), [...new Set(used)].sort(), 'no declared volume unused');
    const mount = (svc: string) => file.services[svc].volumes?.find((v) => !v.startsWith('.'))?.split(':')[1];
    assert.equal(mount('kafka'), file.services.kafka.environment!.KAFKA_LOG_DIRS);
    assert.equal(mount('cassandra'), '/var/lib/cassandra');
    assert.equal(mount('docstore'), docstore === 'mongodb' ? '/data/db' : '/state');
    assert.equal(mount('almanac'), file.services.almanac.environment!.ALMANAC_DATA_DIR);
  }
});

test('the stores are reachable only on the internal network; only the load balancer publishes a port', () => {
  const file = resolved('large', 'ferretdb');
  assert.equal(file.networks.backend.internal, true);
  for (const d of DATA_SERVICES) assert.deepEqual(file.services[d].networks, ['backend']);
  const published = Object.entries(file.services).filter(([, s]) => s.ports).map(([n]) => n);
  assert.deepEqual(published, ['lb']);
  assert.deepEqual(file.services.lb.ports, ['8080:8080']);
});

test('images are pinned to versions; Redis stays on the BSD-licensed 7.2 line', () => {
  for (const image of Object.values(IMAGES)) assert.match(image, /:[0-9][\w.-]*$/, `${image} pinned`);
  assert.match(IMAGES.redis, /^redis:7\.2\./);
  const file = resolved('large', 'mongodb');
  for (const [name, s] of Object.entries(file.services)) {
    assert.doesNotMatch(s.image, /:latest$|^[^:]+$/, `${name}: ${s.image}`);
  }
  assert.equal(file.services.collector.image, 'ghcr.io/almanac-analytics/almanac:0.1.0');
});

test('the Almanac containers set only settings appliance/main/config.ts reads, and that configuration loads', () => {
  const configSource = readFileSync(path.join(root, 'appliance/main/config.ts'), 'utf8');
  const known = new Set(configSource.match(/ALMANAC_[A-Z_]+/g));
  for (const docstore of DOCSTORES) {
    for (const profile of PROFILES) {
      const file = resolved(profile, docstore);
      for (const name of [...ALMANAC_SERVICES[profile], 'migrate']) {
        const env = file.services[name].environment!;
        for (const key of Object.keys(env)) assert.ok(known.has(key), `${name}: ${key} is not read by appliance/main/config.ts`);
        const config = loadConfig(env, '/');
        assert.equal(config.profile, 'cluster');
        assert.equal(config.host, '0.0.0.0');
        assert.equal(config.collector.trustProxy, true);
        assert.deepEqual(config.cluster.kafkaBrokers, ['kafka:9092']);
        assert.equal(new URL(config.cluster.mongoUrl).hostname, 'docstore');
        assert.match(new URL(config.cluster.redisUrl).password, /^[A-Za-z0-9_-]{43}$/, 'the Redis password from .env');
        assert.equal(config.partitions, Number(file.services.kafka.environment!.KAFKA_NUM_PARTITIONS));
      }
    }
  }
});

test('no secret is in the compose file or the image: only ${VAR} references filled from .env', () => {
  for (const docstore of DOCSTORES) {
    const text = renderCompose({ docstore });
    const env = envFor('small', docstore);
    for (const key of ['ALMANAC_REDIS_PASSWORD', 'ALMANAC_MONGO_PASSWORD']) {
      if (!env[key]) continue;
      assert.ok(!text.includes(env[key]), `${key} value not in compose.yaml`);
      assert.ok(text.includes(`\${${key}:?`), `${key} referenced, required`);
    }
    // Passwords reach the containers only through references.
    assert.doesNotMatch(text, /(PASSWORD|requirepass)[^$\n]*:\s*"[^"$]+"/);
  }
  const dockerfile = readFileSync(path.join(DOCKER_DIR, 'Dockerfile'), 'utf8');
  assert.doesNotMatch(dockerfile, /PASSWORD|SECRET|API_KEY/i);
  const ignore = readFileSync(path.join(DOCKER_DIR, 'Dockerfile.dockerignore'), 'utf8').split('\n');
  for (const pattern of ['**/.env', '**/credentials.json', '.data', '.stack', '**/node_modules']) assert.ok(ignore.includes(pattern), `.dockerignore excludes ${pattern}`);
});

test('the Dockerfile: multi-stage, pinned base, production deps, non-root, /healthz health check, role by environment', () => {
  const dockerfile = readFileSync(path.join(DOCKER_DIR, 'Dockerfile'), 'utf8');
  const stages = dockerfile.match(/^FROM .*$/gm) ?? [];
  assert.ok(stages.length >= 2, 'build and runtime stages');
  assert.match(dockerfile, /^ARG NODE_IMAGE=node:\d+\.\d+\.\d+-bookworm-slim$/m);
  assert.match(dockerfile, /npm ci /);
  assert.match(dockerfile, /npm run build:ui/);
  assert.match(dockerfile, /npm prune --omit=dev/);
  const users = dockerfile.match(/^USER (\S+)$/gm) ?? [];
  assert.equal(users.at(-1), 'USER node');
  assert.match(dockerfile, /^HEALTHCHECK [\s\S]*\/healthz/m);
  assert.match(dockerfile, /^ENTRYPOINT \["node", "appliance\/bin\/almanac.mjs"\]$/m);
  assert.match(dockerfile, /^CMD \["start"\]$/m);
  assert.doesNotMatch(dockerfile, /ALMANAC_ROLES=/, 'the role is chosen at run time, not baked in');
  // Every folder the runtime imports from is copied into the image.
  // (The source folders are tsconfig's, less those of tests, benchmarks and tools: a new folder
  // that the image forgot fails here, as control/ once did.)
  const sources = (JSON.parse(readFileSync(path.join(root, 'tsconfig.json'), 'utf8')).include as string[]).filter((d) => !['tests', 'bench', 'scripts'].includes(d));
  assert.ok(sources.includes('control') && sources.includes('core'));
  for (const dir of sources) assert.match(dockerfile, new RegExp(`^COPY ${dir} ${dir}$`, 'm'), `the image copies ${dir}/`);
  const scripts = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).scripts as Record<string, string>;
  assert.ok(scripts['build:ui'], 'package.json has the build:ui script the image runs');
});

test('the load balancer sends the collector paths to collectors, admin paths to the admin node', () => {
  const cfg = renderHaproxyConfig();
  const httpSource = readFileSync(path.join(root, 'collectors/routes.ts'), 'utf8');
  for (const p of COLLECTOR_PATHS) assert.ok(httpSource.includes(`'${p}'`), `collector serves ${p}`);
  assert.match(cfg, /use_backend collectors if ingest/);
  assert.match(cfg, /backend collectors[\s\S]*server-template collector 1-\d+ collector:8420 check resolvers docker/);
  assert.match(cfg, /backend admin[\s\S]*server-template admin 1-1 admin:8420/);
  assert.match(cfg, /option httpchk GET \/healthz/);
});
