/**
 * The cluster profile's EventLog on Apache Kafka. Every use of kafkajs (2.2.4, pinned) lives in
 * the kafka-*.ts files of this folder (this one: producer lanes and consumer groups;
 * kafka-topic.ts: the topic; kafka-partition-reader.ts: direct reads), so another client could
 * replace it without touching the rest of Almanac.
 *
 * - One topic (`almanac.events` by default) with exactly `partitions` partitions, created
 *   explicitly at start (the broker runs with auto-creation off). A topic that exists with another
 *   partition count is refused: it would move sites between partitions, and one partition owning
 *   a site is what the aggregator's exactly-once rests on.
 * - Messages are keyed by tracking ID and placed by `partitionFor` (core/ports.ts) through a custom
 *   partitioner, so the embedded and cluster profiles agree on which partition owns a site.
 * - Appends are group-committed: appends made while a send is in flight, or within `lingerMs`,
 *   go out together in one produce request (idempotent producer, acks = -1). `append` resolves
 *   only after the broker acknowledged every message of it, and rejects within about
 *   `appendTimeoutMs` when Kafka is unreachable, so the collector can answer 503 instead of hanging.
 * - `subscribe` is a consumer group (eachBatch, manual resolve). The group's offset is committed
 *   after each onBatch resolves; a rejected onBatch is retried in place, with backoff, until it
 *   succeeds, the member stops, or a rebalance takes the partition away (nothing is committed,
 *   so the next owner receives it again).
 * - `read` fetches a partition directly from its leader with kafkajs' internal Fetch client (no
 *   group join, no committed state); it uses kafkajs internals, which is why the version is pinned.
 */
import {
  Kafka, CompressionTypes, logLevel, type Consumer, type EachBatchPayload, type LogEntry, type Message, type Producer,
} from 'kafkajs';
import type { EnrichedEvent } from '../../../core/event.ts';
import { partitionFor, type EventLog, type LogRecord, type SubscribeOptions, type Subscription } from '../../../core/ports.ts';
import { ensureTopic, offsetsOf } from './kafka-topic.ts';
import { createPartitionReader } from './kafka-partition-reader.ts';

export { deleteKafkaTopic } from './kafka-topic.ts';

export const DEFAULT_TOPIC = 'almanac.events';

export interface KafkaEventLogOptions {
  brokers: readonly string[];
  partitions: number;
  /** Default `almanac.events`. Tests pass their own. */
  topic?: string;
  clientId?: string;
  /**
   * Default 'none'. Measured on the 2-core stack (bench/storage-cluster.ts, batches of 100, acks -1): none
   * 55k events/s vs gzip 39k with 16 appends in flight, 16k vs 11k with one; the CPU, not
   * the loopback network, is the limit there. gzip may pay off across a real network.
   * lz4/snappy need codecs kafkajs does not bundle.
   */
  compression?: 'gzip' | 'none';
  /** How long an append waits for others to share its produce request. Default 2 ms. */
  lingerMs?: number;
  /** Most events in one produce request. Default 2000. */
  maxEventsPerSend?: number;
  /**
   * Idempotent producers sending in parallel. kafkajs allows one request in flight per
   * idempotent producer, so with one producer the collector's throughput is (events per send) /
   * (send latency); more producers overlap the sends. Order holds within each append. Default 4.
   */
  producers?: number;
  /** An append that is not acknowledged within this time rejects. Default 5000 ms. */
  appendTimeoutMs?: number;
  /** Longest a consumer's fetch waits for new records (also bounds how long stop() waits). Default 500 ms. */
  fetchMaxWaitMs?: number;
  /** A member that has not heartbeated for this long loses its partitions. Default 30 000 ms (the broker allows 6 000+). */
  sessionTimeoutMs?: number;
  /** Partitions one subscriber processes in parallel (each partition stays serial). Default: all. */
  partitionsConsumedConcurrently?: number;
  /** retention.ms of the topic when this creates it. Default 7 days. */
  retentionMs?: number;
  /** Replication factor when this creates the topic; -1 uses the broker default. */
  replicationFactor?: number;
  /** Operational messages (kafkajs warnings and errors, retried batches). Default: none. */
  log?: (message: string) => void;
}

export interface KafkaEventLog extends EventLog {
  readonly topic: string;
  /** True when the cluster answers a metadata request within `timeoutMs`. */
  ping(timeoutMs?: number): Promise<boolean>;
}

const MAX_RETRY_BACKOFF_MS = 5_000;

export async function openKafkaEventLog(options: KafkaEventLogOptions): Promise<KafkaEventLog> {
  const topic = options.topic ?? DEFAULT_TOPIC;
  const partitions = options.partitions;
  if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`partitions must be a positive integer, got ${partitions}`);
  const log = options.log ?? (() => {});
  const lingerMs = options.lingerMs ?? 2;
  const maxEventsPerSend = options.maxEventsPerSend ?? 2000;
  const appendTimeoutMs = options.appendTimeoutMs ?? 5000;
  const compression = options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;

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
      // Expected: retries are limited on purpose so appends fail fast (see createProducer).
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

  // ------------------------------------------------------------------ producer (group commit)

  interface PendingAppend {
    messages: Message[];
    resolve(): void;
    reject(err: Error): void;
  }
  interface Lane {
    producer?: Producer;
    producerReady?: Promise<Producer>;
    sending?: Promise<void>;
  }
  const lanes: Lane[] = Array.from({ length: Math.max(1, options.producers ?? 4) }, () => ({}));
  const queue: PendingAppend[] = [];
  let queuedEvents = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  function createProducer(lane: Lane): Promise<Producer> {
    const p = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // A send gives up after ~1 s of failed attempts instead of retrying forever: the collector
      // must answer 503 quickly. Giving up breaks the idempotent session's sequence numbers, so a
      // failed send discards the producer (resetProducer) and the next one starts a new session.
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
      createPartitioner: () => ({ message }) => partitionFor(String(message.key), partitions),
    });
    lane.producer = p;
    return p.connect().then(() => p);
  }

  function resetProducer(lane: Lane): void {
    const old = lane.producer;
    lane.producer = undefined;
    lane.producerReady = undefined;
    if (old) void old.disconnect().catch(() => {});
  }

  /** Starts a send on every idle lane while appends are queued (a busy lane takes more when it is done). */
  function startIdleLanes(): void {
    for (const lane of lanes) {
      if (queue.length === 0) return;
      if (!lane.sending) lane.sending = flush(lane);
    }
  }

  function schedule(): void {
    if (timer || lanes.every((l) => l.sending)) return;
    if (queuedEvents >= maxEventsPerSend || lingerMs <= 0) {
      startIdleLanes();
      return;
    }
    timer = setTimeout(() => {
      timer = undefined;
      startIdleLanes();
    }, lingerMs);
  }

  async function flush(lane: Lane): Promise<void> {
    try {
      while (queue.length > 0) {
        // Whole appends only, so one append's events stay together and in order.
        const take: PendingAppend[] = [];
        let n = 0;
        while (queue.length > 0 && (take.length === 0 || n + queue[0].messages.length <= maxEventsPerSend)) {
          const next = queue.shift()!;
          n += next.messages.length;
          take.push(next);
        }
        queuedEvents -= n;
        const messages = take.length === 1 ? take[0].messages : take.flatMap((t) => t.messages);
        try {
          await withTimeout(
            (async () => {
              lane.producerReady ??= createProducer(lane);
              const p = await lane.producerReady;
              await p.send({ topic, messages, acks: -1, compression });
            })(),
            appendTimeoutMs,
            `Kafka did not acknowledge the append within ${appendTimeoutMs} ms`,
          );
          for (const t of take) t.resolve();
        } catch (err) {
          resetProducer(lane);
          const error = new Error(`cannot append to Kafka topic ${topic}: ${(err as Error).message}`, { cause: err });
          for (const t of take) t.reject(error);
        }
      }
    } finally {
      lane.sending = undefined;
    }
  }

  // ------------------------------------------------------------------ reader (direct fetch)

  const reader = createPartitionReader(kafka, options.brokers, topic);

  // ------------------------------------------------------------------ subscriptions

  const subscriptions = new Set<Subscription>();

  async function subscribe(opts: SubscribeOptions): Promise<Subscription> {
    if (closed) throw new Error('The Kafka event log is closed.');
    const maxBatch = opts.maxBatch && opts.maxBatch > 0 ? opts.maxBatch : Number.MAX_SAFE_INTEGER;
    const consumer: Consumer = kafka.consumer({
      groupId: opts.group,
      allowAutoTopicCreation: false,
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      rebalanceTimeout: 60_000,
      heartbeatInterval: 3_000,
      maxWaitTimeInMs: options.fetchMaxWaitMs ?? 500,
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
        partitionsConsumedConcurrently: Math.max(1, options.partitionsConsumedConcurrently ?? partitions),
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
          subscriptions.delete(subscription);
          const had = [...assigned].sort((a, b) => a - b);
          assigned = new Set();
          if (had.length > 0) await runMembership(() => opts.onRevoke?.(had));
        })();
        return stopping;
      },
    };
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
      return new Promise<void>((resolve, reject) => {
        queue.push({ messages, resolve, reject });
        queuedEvents += messages.length;
        schedule();
      });
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
      if (timer) {
        clearTimeout(timer);
        timer = undefined;
      }
      // Appends already accepted are sent (or fail) before the producer goes away.
      while (queue.length > 0 || lanes.some((l) => l.sending)) {
        startIdleLanes();
        await Promise.all(lanes.map((l) => l.sending));
      }
      await Promise.all([...subscriptions].map((s) => s.stop().catch(() => {})));
      await Promise.all([
        ...lanes.map((l) => l.producer?.disconnect().catch(() => {})),
        admin.disconnect().catch(() => {}),
        reader.close(),
      ]);
    },
  };
}

// ------------------------------------------------------------------ helpers

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let t: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}
