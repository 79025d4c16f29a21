/**
 * The event-log topic: created explicitly with the configured partition count (a topic that
 * exists with another count is refused: it would move sites between partitions), its offsets,
 * and deletion for tests and tools. Part of the Kafka adapter (kafka-event-log.ts).
 */
import { Kafka, logLevel, type Admin } from 'kafkajs';

/** The topic settings among the event log's options (KafkaEventLogOptions documents them). */
export interface TopicSettings {
  replicationFactor?: number;
  retentionMs?: number;
}

/** Deletes a topic (tests, tools). */
export async function deleteKafkaTopic(brokers: readonly string[], topic: string): Promise<void> {
  const admin = new Kafka({ clientId: 'almanac-admin', brokers: [...brokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [topic], timeout: 10_000 });
  } finally {
    await admin.disconnect();
  }
}

export async function ensureTopic(admin: Admin, topic: string, partitions: number, options: TopicSettings): Promise<void> {
  const existing = await admin.listTopics();
  if (!existing.includes(topic)) {
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{
          topic,
          numPartitions: partitions,
          replicationFactor: options.replicationFactor ?? -1,
          configEntries: [{ name: 'retention.ms', value: String(options.retentionMs ?? 7 * 24 * 3_600_000) }],
        }],
      });
    } catch (err) {
      // Another node created it first: fine, the check below still applies.
      if (!/already exists/i.test(String((err as Error).message)) && (err as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw err;
    }
  }
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  const have = meta.topics[0]?.partitions.length ?? 0;
  if (have !== partitions) {
    throw new Error(
      `Kafka topic ${topic} has ${have} partitions but ALMANAC_PARTITIONS is ${partitions}. ` +
      `Set ALMANAC_PARTITIONS=${have}: changing the partition count would move sites between partitions.`,
    );
  }
}

export async function offsetsOf(admin: Admin, topic: string, partitions: number): Promise<{ low: number; high: number }[]> {
  const offsets = await admin.fetchTopicOffsets(topic);
  const out = Array.from({ length: partitions }, () => ({ low: 0, high: 0 }));
  for (const o of offsets) if (o.partition < partitions) out[o.partition] = { low: Number(o.low), high: Number(o.high) };
  return out;
}
