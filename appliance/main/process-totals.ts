/**
 * /api/admin/status in the cluster profile adds up the counters of every live appliance process
 * (it once showed whichever collector worker answered, 10,512 or 10,466 of 20,978, and
 * `aggregator: null` under a supervisor, whose aggregator runs in a worker of its own).
 *
 * Where the counts meet: each process puts its totals since start into its heartbeat record in
 * Redis (appliance/main/heartbeat.ts, every 5 s, expiring 15 s after the last). Chosen over Redis
 * HINCRBY counters and the registry's node reports because a heartbeat is a snapshot that is
 * overwritten, not added to: a retried write cannot count twice, a process's counts leave the sum
 * when it stops, and no process other than the one counting writes them (the supervisor, which
 * writes the node reports, never sees the counts). The embedded profile has one process: its own
 * counters, as before.
 */
import type { AggregatorStats } from '../../pipeline/aggregator.ts';

export type IngestTotals = Record<string, Record<string, number>>;

/** Per tracking ID and key, the sum over processes; null when no process runs a collector. */
export function sumIngest(snapshots: readonly (IngestTotals | null | undefined)[]): IngestTotals | null {
  const present = snapshots.filter((s): s is IngestTotals => Boolean(s));
  if (present.length === 0) return null;
  const out: IngestTotals = {};
  for (const snapshot of present) {
    for (const [trackingId, counts] of Object.entries(snapshot)) {
      const into = (out[trackingId] ??= {});
      for (const [key, n] of Object.entries(counts)) into[key] = (into[key] ?? 0) + n;
    }
  }
  return out;
}

/** Counts are summed, the newest event time per site and the last commit are the latest; null when no process aggregates. */
export function sumAggregatorStats(stats: readonly (AggregatorStats | null | undefined)[]): (AggregatorStats & { instances: number }) | null {
  const present = stats.filter((s): s is AggregatorStats => Boolean(s));
  if (present.length === 0) return null;
  const out: AggregatorStats & { instances: number } = {
    processed: 0, duplicates: 0, skippedBelowCheckpoint: 0, commits: 0, failedCommits: 0, fencedCommits: 0, newestEventTs: {}, lastCommitAt: null, instances: present.length,
  };
  for (const s of present) {
    for (const k of ['processed', 'duplicates', 'skippedBelowCheckpoint', 'commits', 'failedCommits', 'fencedCommits'] as const) out[k] += s[k] ?? 0;
    for (const [site, ts] of Object.entries(s.newestEventTs ?? {})) out.newestEventTs[site] = Math.max(out.newestEventTs[site] ?? 0, ts);
    if (s.lastCommitAt !== null && s.lastCommitAt !== undefined) out.lastCommitAt = Math.max(out.lastCommitAt ?? 0, s.lastCommitAt);
  }
  return out;
}
