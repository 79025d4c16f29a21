/**
 * Direct reads of one partition of the event-log topic, from its leader, with kafkajs' internal
 * Fetch client: no group join, no committed state (EventLog.read, offsetForTime's timestamps).
 * It uses kafkajs internals, which is why kafkajs is pinned (2.2.4). Part of the Kafka adapter
 * (kafka-event-log.ts); kafkajs is used only in the kafka-*.ts files of this folder.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Kafka } from 'kafkajs';
import type { EnrichedEvent } from '../../../core/event.ts';
import type { LogRecord } from '../../../core/ports/index.ts';

/** The parts of kafkajs' internal Cluster and Broker classes that `read` uses (kafkajs 2.2.4). */
interface InternalBroker {
  fetch(request: {
    replicaId: number; isolationLevel: number; maxWaitTime: number; minBytes: number; maxBytes: number;
    topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[];
  }): Promise<{ responses: { topicName: string; partitions: { partition: number; errorCode: number; highWatermark: string; messages: InternalRecord[] }[] }[] }>;
}
interface InternalRecord {
  offset: string;
  timestamp?: string;
  value: Buffer | null;
  isControlRecord?: boolean;
}
interface InternalCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadata(): Promise<void>;
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(args: { nodeId: string }): Promise<InternalBroker>;
}

const READ_COMMITTED = 1;

export function createPartitionReader(kafka: Kafka, brokers: readonly string[], topic: string) {
  const require = createRequire(import.meta.url);
  let cluster: Promise<InternalCluster> | undefined;

  function connect(): Promise<InternalCluster> {
    cluster ??= (async () => {
      const Cluster = require('kafkajs/src/cluster/index.js') as new (args: Record<string, unknown>) => InternalCluster;
      const socketFactory = (require('kafkajs/src/network/socketFactory.js') as () => unknown)();
      const c = new Cluster({
        logger: kafka.logger(),
        socketFactory,
        brokers: [...brokers],
        clientId: `almanac-reader-${randomUUID().slice(0, 8)}`,
        connectionTimeout: 2000,
        requestTimeout: 10_000,
        retry: { retries: 3, initialRetryTime: 150, maxRetryTime: 1500 },
        allowAutoTopicCreation: false,
        isolationLevel: READ_COMMITTED,
      });
      await c.connect();
      await c.addTargetTopic(topic);
      return c;
    })().catch((err) => {
      cluster = undefined;
      throw err;
    });
    return cluster;
  }

  async function fetchOnce(partition: number, offset: number): Promise<InternalRecord[]> {
    const c = await connect();
    let leaders = c.findLeaderForPartitions(topic, [partition]);
    if (Object.keys(leaders).length === 0) {
      await c.refreshMetadata();
      leaders = c.findLeaderForPartitions(topic, [partition]);
    }
    const nodeId = Object.keys(leaders)[0];
    if (nodeId === undefined) throw new Error(`no leader known for ${topic} partition ${partition}`);
    const broker = await c.findBroker({ nodeId });
    const res = await broker.fetch({
      replicaId: -1, isolationLevel: READ_COMMITTED, maxWaitTime: 0, minBytes: 0, maxBytes: 8 * 1024 * 1024,
      topics: [{ topic, partitions: [{ partition, fetchOffset: String(offset), maxBytes: 4 * 1024 * 1024 }] }],
    });
    return res.responses.find((r) => r.topicName === topic)?.partitions.find((p) => p.partition === partition)?.messages ?? [];
  }

  return {
    async read(partition: number, fromOffset: number, max: number, bounds: () => Promise<{ low: number; high: number }[]>): Promise<LogRecord[]> {
      const out: LogRecord[] = [];
      let next = Math.max(0, Math.floor(fromOffset));
      let leaderMoved = false;
      while (out.length < max) {
        let records: InternalRecord[];
        try {
          records = await fetchOnce(partition, next);
        } catch (err) {
          const type = (err as { type?: string }).type;
          if (type === 'OFFSET_OUT_OF_RANGE') {
            const { low, high } = (await bounds())[partition];
            if (next >= high) break;
            if (next < low) {
              // Trimmed by retention: what is left starts at the log start.
              next = low;
              continue;
            }
          }
          if (!leaderMoved && (type === 'NOT_LEADER_FOR_PARTITION' || type === 'UNKNOWN_TOPIC_OR_PARTITION' || type === 'LEADER_NOT_AVAILABLE')) {
            leaderMoved = true;
            await (await connect()).refreshMetadata();
            continue;
          }
          throw err;
        }
        const before = next;
        for (const r of records) {
          const offset = Number(r.offset);
          // A fetch returns whole record batches, which may start before the offset asked for.
          if (offset < next) continue;
          next = offset + 1;
          if (r.isControlRecord || !r.value) continue;
          out.push({ partition, offset, event: JSON.parse(r.value.toString('utf8')) as EnrichedEvent });
          if (out.length >= max) break;
        }
        if (next === before) break; // at the end of the partition
      }
      return out;
    },
    /** The timestamp of the record at `offset` (undefined when there is none there any more). */
    async timeAt(partition: number, offset: number): Promise<number | undefined> {
      let records: InternalRecord[];
      try {
        records = await fetchOnce(partition, offset);
      } catch (err) {
        if ((err as { type?: string }).type === 'OFFSET_OUT_OF_RANGE') return undefined;
        throw err;
      }
      const r = records.find((x) => Number(x.offset) >= offset);
      return r?.timestamp === undefined ? undefined : Number(r.timestamp);
    },
    async close(): Promise<void> {
      const c = cluster;
      cluster = undefined;
      if (c) await c.then((x) => x.disconnect(), () => {}).catch(() => {});
    },
  };
}
