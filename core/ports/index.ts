/**
 * The storage ports. Every role talks to storage only through these; each profile
 * (embedded: SQLite + in-process cache; cluster: Kafka, MongoDB, Cassandra, Redis) has one
 * adapter per port, and one contract suite (tests/contract) runs against both.
 *
 * One file per port; the registry is made of parts (one file each), and the control-plane
 * records it stores sit apart in records/.
 */
export * from './event-log.ts';
export * from './raw-archive.ts';
export * from './rollup-store.ts';
export * from './cache.ts';
export * from './rate-limiter.ts';
export * from './registry.ts';
export * from './tenancy.ts';
export * from './ingest-counts.ts';
export * from './salts.ts';
export * from './embed-secrets.ts';
export * from './scaling.ts';
export * from './replay-jobs.ts';
export * from './admin.ts';
export * from './segment-store.ts';
export * from './records/tenancy.ts';
export * from './records/embed-secret.ts';
export * from './records/scaling.ts';
export * from './records/replay.ts';
export * from './records/admin.ts';
