// Which Node runs the tests, and that better-sqlite3's native addon loads on it (a wrong ABI
// fails here first). scripts/node-versions.sh runs the embedded tests on each supported major and
// sets ALMANAC_EXPECT_NODE_VERSION, so a run that silently fell back to another Node fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';

test('the tests run on the Node they were started for, one the package supports, with a working SQLite addon', (t) => {
  t.diagnostic(`node ${process.version} (ABI ${process.versions.modules})`);
  const expected = process.env.ALMANAC_EXPECT_NODE_VERSION;
  if (expected) assert.equal(process.version, expected);
  const minimum = /^>=(\d+)\.(\d+)$/.exec(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).engines.node);
  assert.ok(minimum, 'package.json engines.node is ">=MAJOR.MINOR"');
  const [major, minor] = process.versions.node.split('.').map(Number);
  assert.ok(major > Number(minimum[1]) || (major === Number(minimum[1]) && minor >= Number(minimum[2])), `Node ${process.version} is older than ${minimum[0]}`);
  const db = new Database(':memory:');
  try {
    const row = db.prepare('select sqlite_version() as v').get() as { v: string };
    assert.match(row.v, /^3\./);
  } finally {
    db.close();
  }
});
