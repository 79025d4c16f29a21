import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestAppliance, waitFor } from '../../tests/support/appliance.ts';

test('embedded: the node reports its in-process roles as one worker each, and refuses to scale past one', async () => {
  const t = await startTestAppliance({ ALMANAC_NODE_ID: 'embedded-node', ALMANAC_RECONCILE_INTERVAL_MS: '200' });
  try {
    const scaling = t.app.storage.registry;
    let nodes = await scaling.listNodes();
    assert.ok(await waitFor(async () => (nodes = await scaling.listNodes()).length > 0, 5000), 'the node reported itself');
    assert.equal(nodes.length, 1);
    const [node] = nodes;
    assert.equal(node.nodeId, 'embedded-node');
    assert.equal(node.pid, process.pid);
    assert.equal(node.url, t.url);
    assert.deepEqual(node.desired, { collector: 1, archiver: 1, aggregator: 1, query: 1 });
    assert.deepEqual(node.workers.map((w) => [w.role, w.slot, w.pid, w.state]), [
      ['collector', 0, process.pid, 'running'],
      ['archiver', 0, process.pid, 'running'],
      ['aggregator', 0, process.pid, 'running'],
      ['query', 0, process.pid, 'running'],
    ]);
    const seen = node.lastSeenAt;
    assert.ok(await waitFor(async () => (await scaling.listNodes())[0].lastSeenAt > seen, 3000), 'the report is refreshed');
    await assert.rejects(scaling.setDesiredScale('embedded-node', { collector: 1, archiver: 1, aggregator: 2, query: 1 }), /embedded profile runs every role once/);
  } finally {
    await t.close();
  }
});
