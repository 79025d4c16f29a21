// What a server install (`npm install` / `npm ci` at the root) brings in, read from the package
// files alone. scripts/check-install.mjs asks npm itself the same questions in CI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const readJson = (file: string) => JSON.parse(readFileSync(path.join(root, file), 'utf8'));
const manifest = readJson('package.json');
const lock = readJson('package-lock.json');
const packages: Record<string, { version?: string; hasInstallScript?: boolean }> = lock.packages;

test('npm install does not rewrite the lock: its root entry says what package.json says (it lacked the almanac-install bin)', () => {
  const entry = lock.packages[''];
  for (const field of ['name', 'version', 'license', 'bin', 'engines', 'dependencies', 'devDependencies'] as const) {
    assert.deepEqual(entry[field], manifest[field], `package-lock.json's "${field}" differs from package.json: run npm install and commit the lock`);
  }
});

test('every package of the server install that has an install script is listed in allowScripts', () => {
  const withScripts = Object.entries(packages)
    .filter(([, p]) => p.hasInstallScript)
    .map(([where]) => where.slice(where.lastIndexOf('node_modules/') + 'node_modules/'.length));
  assert.deepEqual(withScripts.filter((name) => !(name in manifest.allowScripts)), []);
});

test("the desktop shell's tooling is not part of the server install (electron wants Node >= 22.12, testcontainers pulled in undici 8 and ssh2)", () => {
  const names = Object.keys(packages).map((where) => where.slice(where.lastIndexOf('node_modules/') + 'node_modules/'.length));
  for (const name of ['electron', '@electron/get', 'testcontainers', 'ssh2', 'cpu-features']) assert.ok(!names.includes(name), `${name} is in the server install`);
  assert.ok(readJson('console/desktop/package.json').devDependencies.electron, 'electron is in console/desktop/package.json');
});

test('the desktop package and the packaging config name the same Electron', () => {
  const pinned = readJson('console/desktop/package.json').devDependencies.electron;
  const builder = readFileSync(path.join(root, 'console/electron-builder.yml'), 'utf8');
  assert.equal(/^electronVersion: (.+)$/m.exec(builder)?.[1], pinned);
  assert.equal(readJson('console/desktop/package-lock.json').packages['node_modules/electron'].version, pinned);
});
