/**
 * Kafka event log behaviour beyond the port contract, on the native stack. Stops and restarts the
 * Kafka service (npm run stack -- stop/start kafka), so it runs alone (--test-concurrency=1).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { partitionFor } from '../../../core/ports/index.ts';
import { makeEvent } from '../../../tests/contract/fixtures.ts';
import { openKafkaEventLog, deleteKafkaTopic, type KafkaEventLog } from './kafka-event-log.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const brokers = (process.env.ALMANAC_KAFKA_BROKERS ?? '').split(',').filter(Boolean);

function stack(...args: string[]): void {
  execFileSync('npm', ['run', '--silent', 'stack', '--', ...args], { cwd: root, stdio: 'ignore', timeout: 180_000 });
}

describe('Kafka event log (stack)', { skip: brokers.length === 0 && 'needs the native stack (ALMANAC_KAFKA_BROKERS)' }, () => {
  const topic = `almanac.test.${randomUUID().slice(0, 8)}`;
  const messages: string[] = [];
  let log: KafkaEventLog;
  before(async () => {
    log = await openKafkaEventLog({ brokers, partitions: 3, topic, log: (m) => messages.push(m) });
  });
  after(async () => {
    await log.close();
    await deleteKafkaTopic(brokers, topic);
  });

  test('an existing topic with another partition count is refused, naming ALMANAC_PARTITIONS', async () => {
    await assert.rejects(openKafkaEventLog({ brokers, partitions: 5, topic }), /has 3 partitions but ALMANAC_PARTITIONS is 5/);
  });

  test('appends are acknowledged in their partition, also when many share one send', async () => {
    const sites = Array.from({ length: 10 }, (_, i) => `kafka-test-${i}-${randomUUID().slice(0, 6)}`);
    const before = await log.endOffsets();
    await Promise.all(sites.map((s) => log.append(Array.from({ length: 10 }, () => makeEvent({ trackingId: s })))));
    const after = await log.endOffsets();
    const expected = [0, 0, 0];
    for (const s of sites) expected[partitionFor(s, 3)] += 10;
    assert.deepEqual(after.map((a, p) => a - before[p]), expected);
  });

  test('a batch that outlasts the session timeout keeps its partition: a member joining meanwhile does not get it too', { timeout: 120_000 }, async () => {
    const slowTopic = `almanac.test.${randomUUID().slice(0, 8)}`;
    const slowLog = await openKafkaEventLog({ brokers, partitions: 3, topic: slowTopic, sessionTimeoutMs: 6000, log: () => {} });
    const group = `slow-${randomUUID().slice(0, 8)}`;
    const site = `slow-site-${randomUUID().slice(0, 6)}`;
    const seenByA: number[] = [];
    const seenByB: number[] = [];
    let slowStarted = false;
    let slowDone = false;
    try {
      const a = await slowLog.subscribe({
        group,
        async onBatch(batch) {
          const mine = batch.records.filter((r) => r.event.trackingId === site);
          if (mine.length === 0) return;
          seenByA.push(...mine.map((r) => r.offset));
          slowStarted = true;
          await new Promise((r) => setTimeout(r, 10_000)); // longer than the 6 s session timeout
          slowDone = true;
        },
      });
      await slowLog.append([makeEvent({ trackingId: site })]);
      while (!slowStarted) await new Promise((r) => setTimeout(r, 20));
      // B joins while A is inside its slow batch. The rebalance waits for A to finish it.
      const b = await slowLog.subscribe({
        group,
        async onBatch(batch) {
          seenByB.push(...batch.records.filter((r) => r.event.trackingId === site).map((r) => r.offset));
        },
      });
      assert.ok(slowDone, 'B joined only after A finished (and committed) its batch');
      await new Promise((r) => setTimeout(r, 2000));
      await Promise.all([a.stop(), b.stop()]);
      assert.equal(seenByA.length, 1);
      assert.deepEqual(seenByB, [], 'the slow batch was not delivered to a second member');
    } finally {
      await slowLog.close();
      await deleteKafkaTopic(brokers, slowTopic);
    }
  });

  test('append rejects within a few seconds while Kafka is stopped, and works again after it restarts', { timeout: 240_000 }, async (t) => {
    await log.append([makeEvent({ trackingId: 'kafka-before-stop' })]);
    try {
      stack('stop', 'kafka');
      const started = Date.now();
      await assert.rejects(log.append([makeEvent({ trackingId: 'kafka-while-down' })]), /cannot append to Kafka/);
      const ms = Date.now() - started;
      assert.ok(ms < 6000, `rejected after ${ms} ms`);
      t.diagnostic(`append rejected ${ms} ms after Kafka stopped`);
      // A second append does not hang behind the first either.
      const again = Date.now();
      await assert.rejects(log.append([makeEvent({ trackingId: 'kafka-while-down' })]));
      assert.ok(Date.now() - again < 6000);
      t.diagnostic(`second append rejected after ${Date.now() - again} ms`);
      assert.equal(await log.ping(1000), false);
    } finally {
      stack('start', 'kafka');
    }
    const site = `kafka-after-restart-${randomUUID().slice(0, 6)}`;
    const p = partitionFor(site, 3);
    const restarted = Date.now();
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        const end = (await log.endOffsets())[p];
        await log.append([makeEvent({ trackingId: site })]);
        const [record] = await log.read(p, end, 10);
        assert.equal(record?.event.trackingId, site);
        t.diagnostic(`first append acknowledged ${Date.now() - restarted} ms after start kafka returned`);
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    assert.equal(await log.ping(), true);
  });
});
