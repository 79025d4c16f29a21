/**
 * The two deployment layouts the installer knows, with what each needs from the machine and how
 * much memory each container may take. The figures are the ones preflight checks and the compose
 * file enforces (deploy.resources.limits.memory), so the README's sizing table comes from here.
 */
export const PROFILES = ['small', 'large'] as const;
export type ProfileName = (typeof PROFILES)[number];

export interface Sizing {
  /** Minimum the host must offer; preflight fails below it. */
  minCpus: number;
  minMemoryGiB: number;
  minDiskGiB: number;
  /** Event log partitions: the most aggregator instances that can share the work. */
  partitions: number;
  /** Container memory limits. */
  memory: { kafka: string; cassandra: string; docstore: string; redis: string; lb: string; almanac: string; collector: string; pipeline: string; query: string; admin: string };
  /** JVM heaps inside those limits (the rest is off-heap, page cache and thread stacks). */
  kafkaHeap: string;
  cassandraHeap: string;
  cassandraNewGen: string;
  redisMaxMemory: string;
  /** Replicas per Almanac service of the large layout (the small one runs one `almanac`). */
  replicas: { collector: number; pipeline: number; query: number };
}

export const SIZING: Readonly<Record<ProfileName, Sizing>> = {
  // One box: every role in one Almanac container beside one Kafka broker, one Cassandra node,
  // one document store and Redis. Sized for a few hundred events/s sustained.
  small: {
    minCpus: 4,
    minMemoryGiB: 8,
    minDiskGiB: 40,
    partitions: 6,
    memory: { kafka: '1g', cassandra: '2560m', docstore: '768m', redis: '256m', lb: '128m', almanac: '1536m', collector: '1g', pipeline: '2g', query: '1g', admin: '1g' },
    kafkaHeap: '512m',
    cassandraHeap: '1G',
    cassandraNewGen: '256M',
    redisMaxMemory: '192mb',
    // Not used by this layout (its services are in the `large` compose profile); kept valid.
    replicas: { collector: 1, pipeline: 1, query: 1 },
  },
  // The roles apart, so each scales on its own: collectors behind the load balancer, pipeline
  // nodes (archiver + aggregator) sharing the log partitions, query nodes, one admin node.
  large: {
    minCpus: 16,
    minMemoryGiB: 32,
    minDiskGiB: 200,
    partitions: 24,
    memory: { kafka: '4g', cassandra: '10g', docstore: '2g', redis: '1g', lb: '256m', almanac: '4g', collector: '1g', pipeline: '2g', query: '1536m', admin: '1g' },
    kafkaHeap: '2g',
    cassandraHeap: '6G',
    cassandraNewGen: '1200M',
    redisMaxMemory: '768mb',
    replicas: { collector: 3, pipeline: 2, query: 2 },
  },
};

/** Sum of the memory limits of one layout, in MiB (what the box must hold besides the OS). */
export function memoryBudgetMiB(profile: ProfileName): number {
  const s = SIZING[profile];
  const m = s.memory;
  const mib = (v: string) => {
    const match = /^(\d+)([mg])$/.exec(v);
    if (!match) return 0;
    return Number(match[1]) * (match[2] === 'g' ? 1024 : 1);
  };
  const shared = mib(m.kafka) + mib(m.cassandra) + mib(m.docstore) + mib(m.redis) + mib(m.lb);
  if (profile === 'small') return shared + mib(m.almanac);
  return shared + mib(m.admin) + s.replicas.collector * mib(m.collector) + s.replicas.pipeline * mib(m.pipeline) + s.replicas.query * mib(m.query);
}
