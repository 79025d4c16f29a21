/**
 * The storage ports. Every role talks to storage only through these; each profile
 * (embedded: SQLite + in-process cache; cluster: Kafka, MongoDB, Cassandra, Redis) has one
 * adapter per port, and one contract suite (tests/contract) runs against both.
 */
import type { EnrichedEvent } from './event.ts';
import type { BucketKey, Dimension, SessionState, StoredBucket, BreakdownRow, RollupRow } from './rollup.ts';
import type { Granularity } from './time.ts';

// ---------------------------------------------------------------- event log

export interface LogRecord {
  partition: number;
  /** Position in the partition; the next record has offset + 1. */
  offset: number;
  event: EnrichedEvent;
}

export interface LogBatch {
  partition: number;
  records: LogRecord[];
}

export interface Subscription {
  /** Stops fetching, waits for the batch in flight, commits what was processed. */
  stop(): Promise<void>;
}

export interface SubscribeOptions {
  group: string;
  /** Called serially per partition; the group's offset is committed after it resolves. */
  onBatch(batch: LogBatch): Promise<void>;
  /** Called when partitions are assigned to this member (all of them in the embedded profile). */
  onAssign?(partitions: number[]): Promise<void> | void;
  onRevoke?(partitions: number[]): Promise<void> | void;
  maxBatch?: number;
}

export interface EventLog {
  readonly partitions: number;
  /** Appends events keyed by tracking ID; resolves once they are durable (the collector then answers 202). */
  append(events: readonly EnrichedEvent[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /** Reads up to `max` records of one partition from `fromOffset` (replays, tools). */
  read(partition: number, fromOffset: number, max: number): Promise<LogRecord[]>;
  /** Next offset to be written, per partition. */
  endOffsets(): Promise<number[]>;
  /** Next offset to be read by a group, per partition (0 when it never committed). */
  committedOffsets(group: string): Promise<number[]>;
  /**
   * The first offset of the partition whose record time is ≥ `ts` (ms), or the end offset when
   * there is none. Record time = when the record was appended (Kafka: the message timestamp,
   * the producer's clock at append; embedded: the append time). Replays find their range by it.
   */
  offsetForTime(partition: number, ts: number): Promise<number>;
  /**
   * The oldest record the partition still holds (retention trims older ones): its offset and
   * record time; `time` is undefined when the partition holds no record (then `offset` is the end
   * offset). `offset` 0 means nothing was ever trimmed.
   */
  earliest(partition: number): Promise<{ offset: number; time: number | undefined }>;
  close(): Promise<void>;
}

export function partitionFor(trackingId: string, partitions: number): number {
  // FNV-1a: stable across processes and profiles, so one partition owns a site.
  let h = 0x811c9dc5;
  for (let i = 0; i < trackingId.length; i++) {
    h ^= trackingId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}

// ---------------------------------------------------------------- raw archive

export interface ArchiveQuery {
  trackingIds: string[];
  /** Inclusive lower, exclusive upper bound on event time (ms). */
  from: number;
  to: number;
}

export interface RawArchive {
  /** Idempotent by eventId: a duplicate counts as stored, not as an error. */
  insert(events: readonly EnrichedEvent[]): Promise<{ inserted: number; duplicates: number }>;
  /** Events in time order, in pages of `pageSize`. */
  scan(query: ArchiveQuery, pageSize?: number): AsyncIterable<EnrichedEvent[]>;
  count(query: ArchiveQuery): Promise<number>;
  /** Deletes events of a tracking ID older than `before`; returns how many. */
  deleteBefore(trackingId: string, before: number): Promise<number>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------- rollup store

/**
 * Everything one aggregator flush changes for one log partition, written atomically:
 * either all of it is visible, with the partition's checkpoint, or none of it.
 * After a crash the aggregator resumes after the checkpoint, so no event counts twice.
 */
export interface RollupCommit {
  partition: number;
  /** Offset of the next record to process after this commit. */
  nextOffset: number;
  buckets: StoredBucket[];
  /**
   * Visits kept for late events: for each visitor listed, ALL its kept visits (several per
   * visitor possible), which replace the visitor's stored set. Visitors not listed are unchanged.
   */
  sessions: SessionState[];
  /** Event IDs seen in this commit, for duplicate detection, with their receive time. */
  seen: { trackingId: string; eventId: string; at: number }[];
}

/**
 * A commit refused because another store instance claimed the partition after this one did
 * (fencing): the partition moved to another aggregator. Nothing of the commit is visible.
 */
export class PartitionFencedError extends Error {
  readonly code = 'partition_fenced';
  constructor(readonly partition: number) {
    super(`Partition ${partition} was claimed by another aggregator instance; this one no longer writes it (nothing of the refused commit is visible).`);
    this.name = 'PartitionFencedError';
  }
}

export interface RollupStore {
  /** Next offset to process for a partition; 0 when never committed. */
  checkpoint(partition: number): Promise<number>;
  /**
   * Fencing: makes this store instance the partition's one writer and returns its checkpoint.
   * The partition's owner epoch is raised by compare-and-set; from then on every commit of the
   * partition through an instance holding an older epoch is refused (PartitionFencedError) and
   * leaves nothing visible. The aggregator claims each partition it is assigned before its first
   * batch. An instance that commits a partition it never claimed claims it first.
   */
  claim(partition: number): Promise<number>;
  /** Writes the commit all-or-nothing; rejects with PartitionFencedError if another instance claimed the partition since. */
  commit(write: RollupCommit): Promise<void>;
  getBuckets(keys: readonly BucketKey[]): Promise<StoredBucket[]>;
  /** Every kept visit of these visitors (each visitor once, however often it is listed), per visitor by start. */
  getSessions(keys: readonly { trackingId: string; visitorId: string }[]): Promise<SessionState[]>;
  /** Which of these event IDs were already counted. */
  seenEventIds(trackingId: string, eventIds: readonly string[]): Promise<Set<string>>;
  /** Totals rows in [from, to) for one granularity, ordered by start. */
  readTotals(trackingId: string, granularity: Granularity, from: number, to: number): Promise<(RollupRow & { start: number })[]>;
  /** Breakdown rows of one dimension in [from, to), unmerged (one per bucket and value). */
  readBreakdown(trackingId: string, granularity: Granularity, from: number, to: number, dimension: Dimension): Promise<(BreakdownRow & { start: number })[]>;
  /** Drops visitors whose latest visit ended before `before` (with their earlier visits) and seen-IDs older than `seenBefore`. */
  prune(before: number, seenBefore: number): Promise<void>;
  /**
   * Tenant deletion: deletes a tracking ID's buckets whose start is in [from, to) (an adapter may
   * delete more: SQLite deletes all of them) and, where the store can find them, its sessions and
   * seen-IDs (Cassandra cannot list them by tracking ID: they expire with the usual pruning).
   * Optional: the admin API reports whether rollups were deleted.
   */
  deleteTrackingId?(trackingId: string, range: { from: number; to: number }): Promise<void>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------- cache

export interface Cache {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Atomically increments a counter (created at 0) and returns the new value. */
  incr(key: string): Promise<number>;
  /** Stores `value` unless the key exists; returns the value now stored (the winner's, under races). */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<string>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------- rate limiter

export interface RateDecision {
  allowed: boolean;
  /** When not allowed: ms until `cost` tokens will be available. */
  retryAfterMs: number;
}

export interface RateLimiter {
  /** Token bucket per key: `ratePerSec` refill, `burst` capacity; takes `cost` tokens or none. */
  take(key: string, cost: number, ratePerSec: number, burst: number): Promise<RateDecision>;
}

// ---------------------------------------------------------------- registry

export interface Tenant {
  id: string;
  name: string;
  status: 'active' | 'suspended';
  /** Events per second per tracking ID (token bucket refill). */
  rateLimitPerSec: number;
  monthlyEventCap: number | null;
  retentionDays: number;
  createdAt: number;
}

export interface TrackingIdRecord {
  id: string;
  tenantId: string;
  name: string;
  /** Origins allowed to send from browsers, e.g. https://shop.example; '*' allows any. */
  allowedOrigins: string[];
  /** Server-side key, sent as X-Almanac-Key. Stored as given: the collector compares it in constant time. */
  serverKey: string;
  status: 'active' | 'paused' | 'revoked';
  /** Honour Do-Not-Track in the tracker. */
  respectDnt: boolean;
  createdAt: number;
}

export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  name: string;
  /** sha256 of the key; the key itself is shown once. */
  keyHash: string;
  /** 'tenant' reads that tenant's stats; 'admin' also manages the registry. */
  scope: 'tenant' | 'admin';
  createdAt: number;
}

export interface Registry extends SaltRegistry, Partial<ReplayJobRegistry>, Partial<ScalingRegistry>, Partial<AdminRegistry>, Partial<EmbedSecretRegistry> {
  createTenant(t: Omit<Tenant, 'createdAt'>): Promise<Tenant>;
  getTenant(id: string): Promise<Tenant | undefined>;
  listTenants(): Promise<Tenant[]>;
  updateTenant(id: string, patch: Partial<Omit<Tenant, 'id' | 'createdAt'>>): Promise<Tenant>;

  createTrackingId(t: Omit<TrackingIdRecord, 'createdAt'>): Promise<TrackingIdRecord>;
  getTrackingId(id: string): Promise<TrackingIdRecord | undefined>;
  listTrackingIds(tenantId?: string): Promise<TrackingIdRecord[]>;
  updateTrackingId(id: string, patch: Partial<Omit<TrackingIdRecord, 'id' | 'tenantId' | 'createdAt'>>): Promise<TrackingIdRecord>;

  createApiKey(k: Omit<ApiKeyRecord, 'createdAt'>): Promise<ApiKeyRecord>;
  findApiKeyByHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
  listApiKeys(tenantId?: string): Promise<ApiKeyRecord[]>;

  /** Adds ingest counters (accepted, rejected:<code>, bot:<reason>) for a tracking ID and UTC day. */
  addIngestCounts(trackingId: string, day: number, counts: Record<string, number>): Promise<void>;
  ingestCounts(trackingId: string, fromDay: number, toDay: number): Promise<Record<string, number>>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------- daily salts (visitor IDs)

/**
 * The daily salts of cookieless visitor IDs (collectors/enrich/salt.ts), kept in the registry so
 * they survive restarts and every collector uses the same one. Required: a collector that cannot
 * read the day's salt must not make up its own (that would count one visitor twice).
 */
export interface SaltRegistry {
  /**
   * Stores `candidate` as the salt of the UTC day starting at `day` (ms) unless that day has one
   * (create once, compare-and-set); returns the salt now stored (the winner's, under races).
   */
  getOrCreateDailySalt(day: number, candidate: string): Promise<string>;
  /** Deletes the salts of the days starting before `day` (ms); returns how many were deleted. */
  deleteDailySaltsBefore(day: number): Promise<number>;
  /** The days (ms, ascending) that have a salt; for maintenance checks and tests. */
  listDailySaltDays(): Promise<number[]>;
}

// ---------------------------------------------------------------- embed-token secrets (dashboards)

/**
 * A tenant's secret for signing dashboard embed tokens (query/embed). Rotating it replaces the
 * secret and raises the generation, which revokes every token signed before.
 */
export interface EmbedSecret {
  tenantId: string;
  /** base64url, 32 random bytes. */
  secret: string;
  /** 1 for the first secret, +1 per rotation. Tokens carry it, so an old one reads "revoked". */
  generation: number;
  rotatedAt: number;
}

/** Embed secrets in the registry. Optional on Registry: test doubles need not implement them. */
export interface EmbedSecretRegistry {
  getEmbedSecret(tenantId: string): Promise<EmbedSecret | undefined>;
  /**
   * Stores `secret` as the tenant's generation 1 unless the tenant already has one; returns the
   * secret now stored (the existing one, or the winner's under races).
   */
  initEmbedSecret(tenantId: string, secret: string): Promise<EmbedSecret>;
  /** Replaces the tenant's secret and raises its generation (1 when it had none). */
  rotateEmbedSecret(tenantId: string, secret: string): Promise<EmbedSecret>;
}

// ---------------------------------------------------------------- scaling (control plane)

/** The roles a node runs as worker processes, each with a desired count. */
export type WorkerRole = 'collector' | 'archiver' | 'aggregator' | 'query';
export type WorkerCounts = Record<WorkerRole, number>;

export interface WorkerStatus {
  role: WorkerRole;
  /** 0-based slot of this worker among its role's workers on the node. */
  slot: number;
  pid: number | null;
  state: 'starting' | 'running' | 'backoff' | 'stopping';
  restarts: number;
  startedAt: number | null;
  /** The last exit of this slot's process, if it ever exited (a crash shows here). */
  lastExit: { code: number | null; signal: string | null; at: number } | null;
}

/** What a node's supervisor reports about itself every few seconds. */
export interface NodeStatus {
  nodeId: string;
  host: string;
  pid: number;
  url: string;
  startedAt: number;
  lastSeenAt: number;
  desired: WorkerCounts;
  workers: WorkerStatus[];
}

/** Desired scale and node reports, in the registry. Optional on Registry: test doubles need not implement them. */
export interface ScalingRegistry {
  /** Desired worker counts of a node; undefined when never set (the node's defaults apply). */
  getDesiredScale(nodeId: string): Promise<WorkerCounts | undefined>;
  setDesiredScale(nodeId: string, counts: WorkerCounts): Promise<void>;
  reportNode(status: NodeStatus): Promise<void>;
  /** Nodes whose last report is at most `maxAgeMs` old (default 15 s), by nodeId. */
  listNodes(maxAgeMs?: number): Promise<NodeStatus[]>;
}

// ---------------------------------------------------------------- replay jobs

/**
 * A replay reprocesses the history of some tracking IDs over a range of UTC days with the
 * current processing logic (see pipeline/replay/README.md). The job lives in the registry; the
 * aggregator that owns a site's log partition executes it, one UTC day at a time.
 */
export type ReplayStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface ReplayProgress {
  /** Raw events of the days done (archive counts), and of the whole range when the job started. */
  eventsDone: number;
  eventsTotal: number;
  /** Buckets written (or, for a dry run, compared); the total is projected from the days done. */
  bucketsDone: number;
  bucketsTotal: number;
  /** Site-days: a job of 2 tracking IDs over 10 days has 20. Days are done in order, site by site. */
  daysDone: number;
  daysTotal: number;
  /** Time spent on chunks (ms), across restarts. */
  elapsedMs: number;
  eventsPerSec: number;
  /** Estimated time left (ms), from eventsPerSec. */
  etaMs: number;
}

/** What a day's day bucket says: the figures a dry run compares. Revenue in major units per currency. */
export interface ReplayDayFigures {
  pageviews: number;
  events: number;
  visits: number;
  visitors: number;
  revenue: Record<string, number>;
}

export interface ReplayDayDiff {
  trackingId: string;
  /** UTC day, YYYY-MM-DD. */
  day: string;
  old: ReplayDayFigures;
  new: ReplayDayFigures;
}

export interface ReplayDryRunReport {
  /** Site-days compared so far. */
  daysCompared: number;
  /** Only the site-days whose figures differ. */
  days: ReplayDayDiff[];
}

export interface ReplayJob {
  id: string;
  trackingIds: string[];
  /** The tenant the tracking IDs were taken from, when the job was started for a tenant. */
  tenantId: string | null;
  /** UTC day start (ms) of the first day, inclusive; `to` is the start of the day after the last one. */
  from: number;
  to: number;
  dryRun: boolean;
  status: ReplayStatus;
  progress: ReplayProgress;
  source: 'log' | 'archive';
  /** The logic version the job runs with (written into every bucket it replaces). */
  logicVersion: number;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  error: string | null;
  cancelRequested: boolean;
  dryRunReport: ReplayDryRunReport | null;
}

export interface ReplayJobFilter {
  status?: ReplayStatus[];
  /** Only the newest `limit` jobs (still listed oldest first). Default: all. */
  limit?: number;
}

/** Replay jobs in the registry. Optional on Registry: test doubles need not implement them. */
export interface ReplayJobRegistry {
  createReplayJob(job: ReplayJob): Promise<ReplayJob>;
  getReplayJob(id: string): Promise<ReplayJob | undefined>;
  /** Oldest first (by createdAt, then id), filtered. */
  listReplayJobs(filter?: ReplayJobFilter): Promise<ReplayJob[]>;
  /** Sets the given fields; rejects for an unknown job. `cancelRequested` is never cleared by a patch. */
  updateReplayJob(id: string, patch: Partial<Omit<ReplayJob, 'id' | 'createdAt'>>): Promise<ReplayJob>;
}

// ---------------------------------------------------------------- admin users, sessions, audit (control plane)

export type AdminRole = 'owner' | 'admin' | 'viewer';

export interface AdminUser {
  id: string;
  /** Sign-in name, unique, compared lower-cased. */
  username: string;
  role: AdminRole;
  /** `scrypt$N$r$p$salt$hash` (base64url parts): see appliance/admin-api/passwords.ts. */
  passwordHash: string;
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface AdminSession {
  /** sha256 of the opaque session token; the token itself is never stored. */
  tokenHash: string;
  userId: string;
  createdAt: number;
  /** Sliding: each use moves it forward. */
  expiresAt: number;
}

export interface AuditEntry {
  /** Sorts by time: the newest entry has the greatest ID. */
  id: string;
  at: number;
  /** Who: `user:<id>` or `apikey:<id>`, with a readable name beside it. */
  actor: string;
  actorName: string;
  /** What, e.g. tenants.suspend. */
  action: string;
  target: string | null;
  before: unknown;
  after: unknown;
}

export interface AuditFilter {
  actor?: string;
  action?: string;
  target?: string;
  /** Paging: only entries with an ID below this one (the last ID of the previous page). */
  beforeId?: string;
  /** Default 50. */
  limit?: number;
}

/** Admin users, their sessions and the audit log. Optional on Registry: test doubles need not implement them. */
export interface AdminRegistry {
  /** Rejects when the username (case-insensitive) is taken. */
  createAdminUser(user: Omit<AdminUser, 'createdAt' | 'updatedAt'>): Promise<AdminUser>;
  getAdminUser(id: string): Promise<AdminUser | undefined>;
  findAdminUserByUsername(username: string): Promise<AdminUser | undefined>;
  listAdminUsers(): Promise<AdminUser[]>;
  updateAdminUser(id: string, patch: Partial<Pick<AdminUser, 'role' | 'disabled' | 'passwordHash'>>): Promise<AdminUser>;
  createAdminSession(session: AdminSession): Promise<void>;
  getAdminSession(tokenHash: string): Promise<AdminSession | undefined>;
  /** Moves the expiry of a session (sliding expiry); no-op for an unknown one. */
  extendAdminSession(tokenHash: string, expiresAt: number): Promise<void>;
  deleteAdminSession(tokenHash: string): Promise<void>;
  /** Signs a user out everywhere (disabled users); returns how many sessions ended. */
  deleteAdminSessionsOf(userId: string): Promise<number>;
  appendAudit(entry: AuditEntry): Promise<void>;
  /** Newest first. */
  listAudit(filter?: AuditFilter): Promise<AuditEntry[]>;
  /** Deletes a tenant with its tracking IDs, API keys and ingest counters; returns the tracking IDs it had. */
  deleteTenantRecords(tenantId: string): Promise<string[]>;
}
