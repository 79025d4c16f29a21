/**
 * The Kafka EventLog's `subscribe`: a consumer group (eachBatch, manual resolve). The group's
 * offset is committed after each onBatch resolves; a rejected onBatch is retried in place, with
 * backoff, until it succeeds, the member stops, or a rebalance takes the partition away (nothing
 * is committed, so the next owner receives it again). onAssign and onRevoke are derived from the
 * group's join events, and run before the partition's first batch.
 */
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { EnrichedEvent } from '../../../core/event.ts';
import type { LogRecord, SubscribeOptions, Subscription } from '../../../core/ports/index.ts';
import { sleep, withTimeout } from '../../../core/async.ts';
import type { KafkaEventLogOptions } from './kafka-options.ts';

const MAX_RETRY_BACKOFF_MS = 5_000;

export interface ConsumerGroupSettings extends Pick<KafkaEventLogOptions, 'sessionTimeoutMs' | 'fetchMaxWaitMs' | 'partitionsConsumedConcurrently'> {
  topic: string;
  partitions: number;
  log: (message: string) => void;
}

/** Joins `opts.group` and runs it until the subscription is stopped; `forget` is told when it stops. */
export async function subscribeConsumerGroup(
  kafka: Kafka,
  settings: ConsumerGroupSettings,
  opts: SubscribeOptions,
  forget: (subscription: Subscription) => void,
): Promise<Subscription> {
  const { topic, partitions, log } = settings;
  const maxBatch = opts.maxBatch && opts.maxBatch > 0 ? opts.maxBatch : Number.MAX_SAFE_INTEGER;
  const consumer: Consumer = kafka.consumer({
    groupId: opts.group,
    allowAutoTopicCreation: false,
    sessionTimeout: settings.sessionTimeoutMs ?? 30_000,
    rebalanceTimeout: 60_000,
    heartbeatInterval: 3_000,
    maxWaitTimeInMs: settings.fetchMaxWaitMs ?? 500,
    // Room for a full aggregator batch (~1 KB per event) in one fetch.
    maxBytesPerPartition: 8 * 1024 * 1024,
    maxBytes: 32 * 1024 * 1024,
    retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 5000 },
  });

  // kafkajs has no assign/revoke callbacks: GROUP_JOIN carries this member's new assignment,
  // and what it no longer lists was revoked. The callbacks run in order on one chain, and
  // batches wait for it, so onAssign has finished before a partition's first batch.
  let assigned = new Set<number>();
  let membership: Promise<void> = Promise.resolve();
  let joined: () => void = () => {};
  const firstJoin = new Promise<void>((resolve) => (joined = resolve));
  const runMembership = (fn: () => Promise<void> | void) => {
    membership = membership.then(fn).catch((err) => log(`kafka consumer ${opts.group}: onAssign/onRevoke failed: ${(err as Error).message}`));
    return membership;
  };
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    const now = new Set<number>(e.payload.memberAssignment[topic] ?? []);
    const added = [...now].filter((p) => !assigned.has(p)).sort((a, b) => a - b);
    const removed = [...assigned].filter((p) => !now.has(p)).sort((a, b) => a - b);
    assigned = now;
    void runMembership(async () => {
      if (removed.length > 0) await opts.onRevoke?.(removed);
      if (added.length > 0) await opts.onAssign?.(added);
    });
    joined();
  });
  let crashed: Error | undefined;
  consumer.on(consumer.events.CRASH, (e) => {
    crashed = e.payload.error;
    log(`kafka consumer ${opts.group} crashed (${e.payload.error.message}); restart: ${e.payload.restart}`);
  });

  async function eachBatch({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }: EachBatchPayload): Promise<void> {
    await membership;
    const partition = batch.partition;
    const records: LogRecord[] = [];
    for (const m of batch.messages) {
      if (!m.value) continue;
      records.push({ partition, offset: Number(m.offset), event: JSON.parse(m.value.toString('utf8')) as EnrichedEvent });
    }
    for (let i = 0; i < records.length; i += maxBatch) {
      if (!isRunning() || isStale()) return;
      const chunk = records.slice(i, i + maxBatch);
      let backoff = 200;
      for (;;) {
        // kafkajs heartbeats only when asked. The aggregator's onBatch may retry for as long as
        // Cassandra is down; without heartbeats the session would time out and the partition
        // would get a second owner while this one is still working on it. (heartbeat() sends
        // at most one per heartbeatInterval; a rebalance it reports is picked up after the batch.)
        const ticker = setInterval(() => void heartbeat().catch(() => {}), 1000);
        try {
          await opts.onBatch({ partition, records: chunk });
          break;
        } catch (err) {
          // Not resolved, not committed: retried here; if this member stops or loses the
          // partition first, the next owner starts from the committed offset and gets it again.
          log(`kafka consumer ${opts.group}: partition ${partition} batch at offset ${chunk[0].offset} failed (${(err as Error).message}); retrying in ${backoff} ms`);
          const until = Date.now() + backoff;
          while (Date.now() < until) {
            if (!isRunning()) return;
            await sleep(Math.min(100, until - Date.now()));
          }
          // Throws on a rebalance: kafkajs rejoins and this batch goes to the partition's next owner.
          await heartbeat();
          if (!isRunning() || isStale()) return;
          backoff = Math.min(backoff * 2, MAX_RETRY_BACKOFF_MS);
        } finally {
          clearInterval(ticker);
        }
      }
      resolveOffset(String(chunk[chunk.length - 1].offset));
      // autoCommitThreshold 1: commits as soon as anything is resolved, i.e. after every onBatch.
      await commitOffsetsIfNecessary();
      await heartbeat();
    }
  }

  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: true,
      autoCommitThreshold: 1,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.max(1, settings.partitionsConsumedConcurrently ?? partitions),
      eachBatch,
    });
    await withTimeout(firstJoin, 60_000, `consumer group ${opts.group} did not join within 60 s${crashed ? ` (${crashed.message})` : ''}`);
    await membership;
  } catch (err) {
    await consumer.disconnect().catch(() => {});
    throw err;
  }

  let stopping: Promise<void> | undefined;
  const subscription: Subscription = {
    stop() {
      stopping ??= (async () => {
        // disconnect() stops fetching, waits for the batch in flight (whose offset eachBatch
        // commits before returning), commits what is resolved, and leaves the group.
        await consumer.disconnect();
        forget(subscription);
        const had = [...assigned].sort((a, b) => a - b);
        assigned = new Set();
        if (had.length > 0) await runMembership(() => opts.onRevoke?.(had));
      })();
      return stopping;
    },
  };
  return subscription;
}
