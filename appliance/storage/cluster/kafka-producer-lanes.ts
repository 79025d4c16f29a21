/**
 * The Kafka EventLog's appends, group-committed: appends made while a send is in flight, or
 * within `lingerMs`, go out together in one produce request (idempotent producer, acks = -1).
 * Several idempotent producers ("lanes") send in parallel. An append resolves only after the
 * broker acknowledged every message of it, and rejects within about `appendTimeoutMs` when Kafka
 * is unreachable, so the collector can answer 503 instead of hanging.
 */
import { CompressionTypes, type Kafka, type Message, type Producer } from 'kafkajs';
import { partitionFor } from '../../../core/ports/index.ts';
import { withTimeout } from '../../../core/async.ts';

export interface ProducerLanesOptions {
  topic: string;
  partitions: number;
  compression: 'gzip' | 'none';
  /** How long an append waits for others to share its produce request, in ms. */
  lingerMs: number;
  /** Most events in one produce request. */
  maxEventsPerSend: number;
  /** Idempotent producers sending in parallel. */
  producers: number;
  /** An append that is not acknowledged within this time (ms) rejects. */
  appendTimeoutMs: number;
}

export interface ProducerLanes {
  /** Queues the messages of one append; resolves when the broker acknowledged all of them. */
  append(messages: Message[]): Promise<void>;
  /** Sends (or fails) every queued append; no new appends may come. */
  drain(): Promise<void>;
  /** Disconnects the producers. */
  disconnect(): Promise<void>;
}

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

export function createProducerLanes(kafka: Kafka, options: ProducerLanesOptions): ProducerLanes {
  const { topic, partitions, lingerMs, maxEventsPerSend, appendTimeoutMs } = options;
  const compression = options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  const lanes: Lane[] = Array.from({ length: Math.max(1, options.producers) }, () => ({}));
  const queue: PendingAppend[] = [];
  let queuedEvents = 0;
  let timer: NodeJS.Timeout | undefined;

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

  return {
    append(messages) {
      return new Promise<void>((resolve, reject) => {
        queue.push({ messages, resolve, reject });
        queuedEvents += messages.length;
        schedule();
      });
    },

    async drain() {
      if (timer) {
        clearTimeout(timer);
        timer = undefined;
      }
      while (queue.length > 0 || lanes.some((l) => l.sending)) {
        startIdleLanes();
        await Promise.all(lanes.map((l) => l.sending));
      }
    },

    async disconnect() {
      await Promise.all(lanes.map((l) => l.producer?.disconnect().catch(() => {})));
    },
  };
}
