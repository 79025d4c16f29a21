/**
 * Contract of the EventLog port: what every adapter (SQLite, Kafka) must do, seen from outside.
 * Tests use their own tracking IDs and groups and only look at their own records, so the log
 * may hold other records (a shared broker, earlier tests).
 */
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { EnrichedEvent } from '../../core/event.ts';
import { partitionFor, type EventLog, type LogBatch, type LogRecord, type Subscription } from '../../core/ports/index.ts';
import { makeEvent, unique, waitFor, sleep, type Harness } from './fixtures.ts';

export function eventLogContract(name: string, make: () => Promise<Harness<EventLog>>): void {
  describe(name, () => {
    let log: EventLog;
    let harness: Harness<EventLog>;
    before(async () => {
      harness = await make();
      log = harness.port;
    });
    after(async () => harness.cleanup());
    // Checks made inside onBatch are recorded here: an assertion thrown there would only look
    // like a processing failure to the log, which redelivers instead of failing the test.
    const violations: string[] = [];
    afterEach(() => assert.deepEqual(violations.splice(0), [], 'delivery rules held in every batch'));

    const eventsFor = (trackingId: string, n: number): EnrichedEvent[] =>
      Array.from({ length: n }, (_, i) => makeEvent({ trackingId, ts: Date.UTC(2030, 0, 1) + i }));

    /** Every record of `partition` from `from` up to the current end, in read order. */
    async function readToEnd(partition: number, from: number): Promise<LogRecord[]> {
      const end = (await log.endOffsets())[partition];
      const out: LogRecord[] = [];
      let next = from;
      while (next < end) {
        const page = await log.read(partition, next, 100);
        if (page.length === 0) break;
        out.push(...page);
        next = page[page.length - 1].offset + 1;
      }
      return out;
    }

    test('has partitions, one end offset each, and a new group has committed 0 everywhere', async () => {
      assert.ok(Number.isInteger(log.partitions) && log.partitions >= 1);
      const ends = await log.endOffsets();
      assert.equal(ends.length, log.partitions);
      for (const e of ends) assert.ok(Number.isInteger(e) && e >= 0);
      assert.deepEqual(await log.committedOffsets(unique('never-used')), new Array(log.partitions).fill(0));
    });

    test('appends land in the partition of their tracking ID, in append order, with consecutive offsets', async () => {
      const site = unique('order');
      const p = partitionFor(site, log.partitions);
      const before = (await log.endOffsets())[p];
      const first = eventsFor(site, 5);
      const second = eventsFor(site, 3);
      await log.append(first);
      await log.append(second);

      const ends = await log.endOffsets();
      assert.ok(ends[p] >= before + 8, 'end offset moves past the appended records');
      const records = await readToEnd(p, before);
      for (let i = 1; i < records.length; i++) assert.equal(records[i].offset, records[i - 1].offset + 1, 'offsets are consecutive');
      for (const r of records) assert.equal(r.partition, p);
      const mine = records.filter((r) => r.event.trackingId === site);
      assert.deepEqual(mine.map((r) => r.event.eventId), [...first, ...second].map((e) => e.eventId));
      assert.deepEqual(mine[0].event, first[0], 'the event comes back as appended');
    });

    test('a tracking ID always maps to the same partition', async () => {
      const sites = Array.from({ length: 6 }, () => unique('stable'));
      const before = await log.endOffsets();
      for (let round = 0; round < 2; round++) await log.append(sites.flatMap((s) => eventsFor(s, 2)));
      for (let p = 0; p < log.partitions; p++) {
        const records = await readToEnd(p, before[p]);
        for (const r of records) {
          if (sites.includes(r.event.trackingId)) assert.equal(p, partitionFor(r.event.trackingId, log.partitions), `${r.event.trackingId} found in partition ${p}`);
        }
      }
      for (const s of sites) {
        const p = partitionFor(s, log.partitions);
        const found = (await readToEnd(p, before[p])).filter((r) => r.event.trackingId === s);
        assert.equal(found.length, 4);
      }
    });

    test('read starts at fromOffset and returns at most max records', async () => {
      const site = unique('read');
      const p = partitionFor(site, log.partitions);
      await log.append(eventsFor(site, 6));
      const end = (await log.endOffsets())[p];
      const page = await log.read(p, end - 5, 3);
      assert.deepEqual(page.map((r) => r.offset), [end - 5, end - 4, end - 3]);
      assert.deepEqual(await log.read(p, end, 10), [], 'nothing at the end offset yet');
    });

    test('offsetForTime finds the first record appended at or after a time; earliest is the oldest retained record', async () => {
      // Record time is the append time (Kafka: the message timestamp, the producer's clock at append).
      const site = unique('bytime');
      const p = partitionFor(site, log.partitions);
      const stamp = (e: EnrichedEvent) => ({ ...e, receivedAt: Date.now() });
      const t0 = Date.now();
      await log.append(eventsFor(site, 3).map(stamp));
      await sleep(50);
      const t1 = Date.now();
      await sleep(50);
      await log.append(eventsFor(site, 2).map(stamp));
      const end = (await log.endOffsets())[p];
      const ours = (await readToEnd(p, Math.max(0, end - 200))).filter((r) => r.event.trackingId === site);
      assert.equal(ours.length, 5);
      const [a, b] = [ours.slice(0, 3), ours.slice(3)];

      const at1 = await log.offsetForTime(p, t1);
      assert.ok(at1 > a[2].offset && at1 <= b[0].offset, `offsetForTime(t1) = ${at1}, first batch ends at ${a[2].offset}, second starts at ${b[0].offset}`);
      const at0 = await log.offsetForTime(p, t0 - 1);
      assert.ok(at0 <= a[0].offset, `offsetForTime(t0) = ${at0} is at or before ${a[0].offset}`);
      assert.equal(await log.offsetForTime(p, Date.now() + 3_600_000), end, 'after the last record: the end offset');

      const first = await log.earliest(p);
      assert.ok(first.offset <= a[0].offset);
      assert.ok(first.time !== undefined && first.time <= t1, `oldest record time ${first.time}`);
      assert.equal(await log.offsetForTime(p, 0), first.offset, 'time 0: the oldest retained record');
      // A partition nobody appended to holds no record.
      for (let q = 0; q < log.partitions; q++) {
        const e = await log.earliest(q);
        const qEnd = (await log.endOffsets())[q];
        if (e.time === undefined) assert.equal(e.offset, qEnd);
        else assert.ok(e.offset < qEnd);
      }
      await assert.rejects(log.offsetForTime(log.partitions, 0));
    });

    test('concurrent appends all become durable', async () => {
      const site = unique('concurrent');
      const p = partitionFor(site, log.partitions);
      const before = (await log.endOffsets())[p];
      const batches = Array.from({ length: 20 }, () => eventsFor(site, 3));
      await Promise.all(batches.map((b) => log.append(b)));
      const ids = (await readToEnd(p, before)).filter((r) => r.event.trackingId === site).map((r) => r.event.eventId);
      assert.equal(ids.length, 60);
      assert.equal(new Set(ids).size, 60);
      // Each append's own events keep their order (appends racing each other may interleave).
      for (const b of batches) {
        const positions = b.map((e) => ids.indexOf(e.eventId));
        assert.deepEqual(positions, [...positions].sort((x, y) => x - y));
      }
    });

    /** Subscribes and collects this test's records; checks per-partition batches never overlap. */
    async function collect(group: string, site: string, into: LogRecord[], extra: { maxBatch?: number; onBatch?: (b: LogBatch) => Promise<void>; assigned?: number[][] } = {}): Promise<Subscription> {
      const busy = new Set<number>();
      return log.subscribe({
        group,
        maxBatch: extra.maxBatch,
        onAssign: (ps) => void extra.assigned?.push(ps),
        async onBatch(batch) {
          const check = (ok: boolean, rule: string) => void (ok || violations.push(rule));
          check(!busy.has(batch.partition), 'batches of one partition are delivered serially');
          check(batch.records.length > 0, 'a batch is never empty');
          check(!extra.maxBatch || batch.records.length <= extra.maxBatch, 'maxBatch is respected');
          check(batch.records.every((r) => r.partition === batch.partition), 'records belong to the batch partition');
          busy.add(batch.partition);
          try {
            await extra.onBatch?.(batch);
            into.push(...batch.records.filter((r) => r.event.trackingId === site));
          } finally {
            busy.delete(batch.partition);
          }
        },
      });
    }

    test('a group receives every record exactly once across a stop and a restart', async () => {
      const site = unique('once');
      const group = unique('group');
      const p = partitionFor(site, log.partitions);
      const first: LogRecord[] = [];
      const assigned: number[][] = [];
      const sub1 = await collect(group, site, first, { maxBatch: 7, assigned });
      const sent1 = eventsFor(site, 20);
      for (let i = 0; i < 20; i += 5) await log.append(sent1.slice(i, i + 5));
      await waitFor('the first 20 records', () => first.length >= 20);
      await sub1.stop();
      assert.ok(assigned.flat().includes(p), 'the partition was assigned');
      assert.deepEqual(first.map((r) => r.event.eventId), sent1.map((e) => e.eventId), 'in order, no duplicates');

      const committed = await log.committedOffsets(group);
      const ends = await log.endOffsets();
      assert.ok(committed[p] > first[first.length - 1].offset, 'the group committed past its last record');
      assert.ok(committed[p] <= ends[p]);

      const sent2 = eventsFor(site, 10);
      await log.append(sent2);
      const second: LogRecord[] = [];
      const sub2 = await collect(group, site, second);
      await waitFor('the next 10 records', () => second.length >= 10);
      await sleep(100); // a late redelivery would show up here
      await sub2.stop();
      assert.deepEqual(second.map((r) => r.event.eventId), sent2.map((e) => e.eventId), 'only the new records, once each');
    });

    test('a subscriber is woken by appends made after it subscribed', async () => {
      const site = unique('wake');
      const got: LogRecord[] = [];
      const sub = await collect(unique('group'), site, got);
      try {
        await sleep(50);
        await log.append(eventsFor(site, 1));
        await waitFor('the appended record', () => got.length === 1, 3000);
      } finally {
        await sub.stop();
      }
    });

    test('stop() waits for the batch in flight and commits it', async () => {
      const site = unique('inflight');
      const group = unique('group');
      const p = partitionFor(site, log.partitions);
      let started = false;
      let finished = false;
      let lastOffsetOfSlowBatch = -1;
      const got: LogRecord[] = [];
      const sub = await collect(group, site, got, {
        async onBatch(batch) {
          if (started || !batch.records.some((r) => r.event.trackingId === site)) return;
          started = true;
          lastOffsetOfSlowBatch = batch.records[batch.records.length - 1].offset;
          await sleep(150);
          finished = true;
        },
      });
      await log.append(eventsFor(site, 3));
      await waitFor('the batch to start', () => started);
      await sub.stop();
      assert.ok(finished, 'stop resolved only after the batch finished');
      assert.ok((await log.committedOffsets(group))[p] > lastOffsetOfSlowBatch, 'the finished batch was committed');

      const again: LogRecord[] = [];
      const sub2 = await collect(group, site, again);
      await sleep(150);
      await sub2.stop();
      assert.deepEqual(again, [], 'a committed batch is not delivered again');
    });

    test('a batch whose onBatch rejects is not committed and is delivered again', async () => {
      const site = unique('retry');
      const sent = eventsFor(site, 4);
      let failures = 0;
      const got: LogRecord[] = [];
      const sub = await collect(unique('group'), site, got, {
        async onBatch(batch) {
          if (failures === 0 && batch.records.some((r) => r.event.trackingId === site)) {
            failures++;
            throw new Error('contract test: simulated processing failure');
          }
        },
      });
      try {
        await log.append(sent);
        await waitFor('redelivery after the failure', () => got.length >= 4, 10_000);
      } finally {
        await sub.stop();
      }
      assert.equal(failures, 1);
      assert.deepEqual(got.map((r) => r.event.eventId), sent.map((e) => e.eventId));
    });

    test('two groups each receive every record', async () => {
      const site = unique('groups');
      const a: LogRecord[] = [];
      const b: LogRecord[] = [];
      const subA = await collect(unique('group-a'), site, a);
      const subB = await collect(unique('group-b'), site, b);
      try {
        await log.append(eventsFor(site, 5));
        await waitFor('both groups', () => a.length >= 5 && b.length >= 5);
      } finally {
        await Promise.all([subA.stop(), subB.stop()]);
      }
      assert.deepEqual(a.map((r) => r.offset), b.map((r) => r.offset));
    });
  });
}
