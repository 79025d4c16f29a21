/** The settings of the Kafka EventLog (kafka-event-log.ts), shared by its parts (topic, producer lanes, consumer groups). */

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
