/**
 * Preflight verdicts from probed facts, and one real run on this machine: there is no Docker
 * engine here, which must come out as a clear failure with what to do, not a stack trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import { checkClock, checkCompose, checkCpus, checkDisk, checkDockerEngine, checkMemory, checkPort, formatChecks, preflightPassed, runPreflight, systemProbes, type PreflightProbes } from './preflight.ts';
import { systemDeps } from './executor.ts';

const GiB = 1024 ** 3;
const r = (code: number, stdout = '', stderr = '') => ({ code, stdout, stderr });

test('Docker engine: reachable, CLI missing, daemon down, socket permission — each with what to do', () => {
  assert.equal(checkDockerEngine(r(0, '27.3.1\n')).status, 'pass');
  const missing = checkDockerEngine(r(127, '', 'spawn docker ENOENT'));
  assert.equal(missing.status, 'fail');
  assert.match(missing.fix!, /install Docker Engine/);
  const down = checkDockerEngine(r(1, '', 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?'));
  assert.equal(down.status, 'fail');
  assert.match(down.detail, /no engine answers at unix:\/\/\/var\/run\/docker.sock/);
  assert.match(down.fix!, /systemctl enable --now docker/);
  const denied = checkDockerEngine(r(1, '', 'permission denied while trying to connect to the Docker daemon socket'));
  assert.match(denied.fix!, /usermod -aG docker/);
});

test('Compose v2: version parsed and compared; a missing plugin says how to install it', () => {
  assert.equal(checkCompose(r(0, 'v2.29.7\n')).status, 'pass');
  assert.equal(checkCompose(r(0, '2.20.0')).status, 'pass');
  assert.equal(checkCompose(r(0, '2.19.9')).status, 'fail');
  assert.equal(checkCompose(r(0, '3.0.0')).status, 'pass');
  const missing = checkCompose(r(1, '', "docker: 'compose' is not a docker command."));
  assert.equal(missing.status, 'fail');
  assert.match(missing.fix!, /docker-compose-plugin/);
});

test('CPU, memory and disk against the layout; port and clock', () => {
  assert.equal(checkCpus(4, 'small').status, 'pass');
  assert.equal(checkCpus(8, 'large').status, 'fail');
  assert.match(checkCpus(8, 'large').fix!, /--profile small/);
  assert.equal(checkMemory(7.6 * GiB, 'small').status, 'pass', 'an 8 GiB machine reports a little less');
  assert.equal(checkMemory(6 * GiB, 'small').status, 'fail');
  assert.equal(checkMemory(31 * GiB, 'large').status, 'pass');
  assert.equal(checkDisk('/opt', 39 * GiB, 'small').status, 'fail');
  assert.equal(checkDisk('/opt', 250 * GiB, 'large').status, 'pass');
  assert.equal(checkDisk('/opt', undefined, 'small').status, 'warn');
  assert.equal(checkPort(8080, false, false).status, 'fail');
  assert.equal(checkPort(8080, false, true).status, 'pass', 'our own running installation holds it');
  assert.equal(checkClock(Date.UTC(2001, 0, 1), undefined).status, 'fail');
  assert.equal(checkClock(Date.UTC(2026, 10, 27), r(0, 'yes\n')).status, 'pass');
  assert.equal(checkClock(Date.UTC(2026, 10, 27), r(0, 'no\n')).status, 'warn');
  assert.equal(preflightPassed([checkClock(Date.UTC(2026, 10, 27), r(0, 'no'))]), true, 'a warning does not stop the install');
});

test('runPreflight asks the engine for its data root only when it answers, and checks that disk too', async () => {
  const asked: string[] = [];
  const probes: PreflightProbes = {
    async run(argv) {
      asked.push(argv.slice(0, 3).join(' '));
      if (argv[1] === 'version') return r(0, '27.3.1');
      if (argv[1] === 'compose') return r(0, '2.29.7');
      if (argv[1] === 'info') return r(0, '/var/lib/docker');
      return r(0, 'yes');
    },
    cpus: () => 4, totalMemory: () => 16 * GiB, now: () => Date.UTC(2026, 10, 27),
    freeDisk: async (dir) => (dir === '/var/lib/docker' ? 10 * GiB : 100 * GiB),
    portFree: async () => true,
  };
  const checks = await runPreflight({ profile: 'small', dir: '/opt/almanac', httpPort: 8080, ownInstall: false }, probes);
  assert.deepEqual(checks.filter((c) => c.status !== 'pass').map((c) => c.name), ['Disk (Docker volumes, /var/lib/docker)']);
  assert.equal(preflightPassed(checks), false);
  assert.ok(asked.includes('docker info --format'));
});

test('for real on this machine: a missing Docker engine is a clear failure with advice, not a crash', async () => {
  const executor = systemDeps(() => {});
  const probes = systemProbes((argv) => executor.run(argv, { quiet: true }));
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '0.0.0.0', () => resolve()));
  const busyPort = (blocker.address() as net.AddressInfo).port;
  try {
    const checks = await runPreflight({ profile: 'small', dir: os.tmpdir(), httpPort: busyPort, ownInstall: false }, probes);
    const engine = checks.find((c) => c.name === 'Docker engine reachable')!;
    const hasEngine = spawnSync('docker', ['info'], { encoding: 'utf8' }).status === 0;
    if (hasEngine) {
      assert.equal(engine.status, 'pass');
    } else {
      assert.equal(engine.status, 'fail');
      assert.match(engine.fix!, /install Docker Engine|systemctl enable --now docker|usermod/);
      assert.doesNotMatch(engine.detail, /\n\s+at /, 'no stack trace');
      assert.match(formatChecks(checks), /✗ Docker engine reachable: .*\n    → /);
    }
    assert.equal(checks.find((c) => c.name === `Port ${busyPort} free`)!.status, 'fail', 'a port in use is found');
    assert.equal(checks.find((c) => c.name === 'Memory')!.detail.includes(`${(os.totalmem() / GiB).toFixed(1)} GiB`), true);
    assert.equal(preflightPassed(checks), false);
  } finally {
    blocker.close();
  }
});
