/**
 * The cluster profile's EventLog on Apache Kafka. Every use of kafkajs (2.2.4, pinned) lives in
 * the kafka-*.ts files of this folder, so another client could replace it without touching the
 * rest of Almanac: this one (the client and the EventLog), kafka-producer-lanes.ts (appends),
 * kafka-consumer-group.ts (subscriptions), kafka-topic.ts (the topic), kafka-partition-reader.ts
 * (direct reads) and kafka-options.ts (the settings).
 *
 * - One topic (`almanac.events` by default) with exactly `partitions` partitions, created
 *   explicitly at start (the broker runs with auto-creation off). A topic that exists with another
 *   partition count is refused: it would move sites between partitions, and one partition owning
 *   a site is what the aggregator's exactly-once rests on.
 * - Messages are keyed by tracking ID and placed by `partitionFor` (core/ports/index.ts) through a custom
 *   partitioner, so the embedded and cluster profiles agree on which partition owns a site.
 * - Appends are group-committed over a few idempotent producers (kafka-producer-lanes.ts):
 *   `append` resolves only after the broker acknowledged every message of it, and rejects within
 *   about `appendTimeoutMs` when Kafka is unreachable, so the collector can answer 503.
 * - `subscribe` is a consumer group whose offset is committed after each onBatch resolves, a
 *   failed onBatch being retried in place (kafka-consumer-group.ts).
 * - `read` fetches a partition directly from its leader with kafkajs' internal Fetch client (no
 *   group join, no committed state); it uses kafkajs internals, which is why the version is pinned.
 */
import { Kafka, logLevel, type LogEntry, type Message } from 'kafkajs';
import type { EventLog, SubscribeOptions, Subscription } from '../../../core/ports/index.ts';
import { withTimeout } from '../../../core/async.ts';
import { subscribeConsumerGroup } from './kafka-consumer-group.ts';
import type { KafkaEventLogOptions } from './kafka-options.ts';
import { createPartitionReader } from './kafka-partition-reader.ts';
import { createProducerLanes } from './kafka-producer-lanes.ts';
import { ensureTopic, offsetsOf } from './kafka-topic.ts';

export { deleteKafkaTopic } from './kafka-topic.ts';
export type { KafkaEventLogOptions } from './kafka-options.ts';

export const DEFAULT_TOPIC = 'almanac.events';

export interface KafkaEventLog extends EventLog {
  readonly topic: string;
  /** True when the cluster answers a metadata request within `timeoutMs`. */
  ping(timeoutMs?: number): Promise<boolean>;
}

export async function openKafkaEventLog(options: KafkaEventLogOptions): Promise<KafkaEventLog> {
  const topic = options.topic ?? DEFAULT_TOPIC;
  const partitions = options.partitions;
  if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`partitions must be a positive integer, got ${partitions}`);
  const log = options.log ?? (() => {});
  const lingerMs = options.lingerMs ?? 2;
  const maxEventsPerSend = options.maxEventsPerSend ?? 2000;
  const appendTimeoutMs = options.appendTimeoutMs ?? 5000;

  const kafka = new Kafka({
    clientId: options.clientId ?? 'almanac',
    brokers: [...options.brokers],
    connectionTimeout: 2000,
    requestTimeout: 10_000,
    // Admin and consumers: a few quick retries, so a dead broker is reported in seconds.
    retry: { retries: 3, initialRetryTime: 150, maxRetryTime: 1500 },
    logLevel: logLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      const message = entry.log.message;
      // Expected: retries are limited on purpose so appends fail fast (see kafka-producer-lanes.ts).
      if (message.includes('Limiting retries for the idempotent producer')) return;
      log(`kafka ${entry.label} [${entry.namespace}] ${message}${entry.log.error ? `: ${String(entry.log.error)}` : ''}`);
    },
  });

  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopic(admin, topic, partitions, options);
  } catch (err) {
    await admin.disconnect().catch(() => {});
    throw err;
  }

  const lanes = createProducerLanes(kafka, {
    topic,
    partitions,
    compression: options.compression ?? 'none',
    lingerMs,
    maxEventsPerSend,
    producers: options.producers ?? 4,
    appendTimeoutMs,
  });
  const reader = createPartitionReader(kafka, options.brokers, topic);
  const subscriptions = new Set<Subscription>();
  let closed = false;

  async function subscribe(opts: SubscribeOptions): Promise<Subscription> {
    if (closed) throw new Error('The Kafka event log is closed.');
    const subscription = await subscribeConsumerGroup(kafka, { ...options, topic, partitions, log }, opts, (s) => subscriptions.delete(s));
    subscriptions.add(subscription);
    return subscription;
  }

  function checkPartition(partition: number): void {
    if (!Number.isInteger(partition) || partition < 0 || partition >= partitions) throw new RangeError(`partition must be 0..${partitions - 1}, got ${partition}`);
  }

  return {
    partitions,
    topic,

    append(events) {
      if (closed) return Promise.reject(new Error('The Kafka event log is closed.'));
      if (events.length === 0) return Promise.resolve();
      // The message timestamp is the producer's clock at append (kafkajs' default), i.e. seconds
      // after receivedAt, which bounds the event time (ts ≤ receivedAt ≤ ts + max age): offsetForTime
      // (ListOffsets by time) finds records by it. Not receivedAt itself: Kafka's time-based
      // retention deletes segments by message timestamp, so events appended with an old receivedAt
      // (imports, benchmarks, a wrong clock) would be deleted at once.
      const messages: Message[] = events.map((e) => ({ key: e.trackingId, value: JSON.stringify(e) }));
      return lanes.append(messages);
    },

    subscribe,

    async read(partition, fromOffset, max) {
      checkPartition(partition);
      if (max <= 0) return [];
      return reader.read(partition, fromOffset, max, () => offsetsOf(admin, topic, partitions));
    },

    async endOffsets() {
      return (await offsetsOf(admin, topic, partitions)).map((o) => o.high);
    },

    async offsetForTime(partition, ts) {
      checkPartition(partition);
      const offsets = await admin.fetchTopicOffsetsByTimestamp(topic, Math.max(0, Math.floor(ts)));
      const found = offsets.find((o) => o.partition === partition);
      if (!found) throw new Error(`Kafka returned no offset for ${topic} partition ${partition}`);
      return Number(found.offset);
    },

    async earliest(partition) {
      checkPartition(partition);
      for (let attempt = 0; ; attempt++) {
        const { low, high } = (await offsetsOf(admin, topic, partitions))[partition];
        if (low >= high) return { offset: low, time: undefined };
        const time = await reader.timeAt(partition, low);
        if (time !== undefined || attempt >= 2) return { offset: low, time };
        // Trimmed between the two requests: ask again.
      }
    },

    async committedOffsets(group) {
      const [entry] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      const out = new Array<number>(partitions).fill(0);
      for (const p of entry?.partitions ?? []) {
        const n = Number(p.offset);
        if (p.partition < partitions && n >= 0) out[p.partition] = n;
      }
      return out;
    },

    async ping(timeoutMs = 2000) {
      try {
        await withTimeout(admin.fetchTopicMetadata({ topics: [topic] }), timeoutMs, 'timeout');
        return true;
      } catch {
        return false;
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      // Appends already accepted are sent (or fail) before the producer goes away.
      await lanes.drain();
      await Promise.all([...subscriptions].map((s) => s.stop().catch(() => {})));
      await Promise.all([
        lanes.disconnect(),
        admin.disconnect().catch(() => {}),
        reader.close(),
      ]);
    },
  };
}
