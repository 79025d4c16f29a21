/**
 * The statements that write one RollupCommit to Cassandra: buckets, breakdowns, sessions, seen
 * IDs and the expiry index. Every one is an overwrite that carries the commit's timestamp, so
 * applying them twice is the same as once (the commit protocol relies on it: cassandra-commit.ts).
 */
import type { RollupCommit } from '../../../core/ports/index.ts';
import { DIMENSIONS, type BreakdownRow } from '../../../core/rollup/model.ts';
import type { RollupCql } from './cassandra-cql.ts';
import { encodeBreakdownRows } from './rollup-codec.ts';
import { counterParams, hourOf, periodOf, sessionParams } from './cassandra-rows.ts';
import { visitorRecords } from '../visit-history.ts';

export interface Statement {
  query: string;
  params: unknown[];
  /** The Cassandra partition the statement writes (statements of one partition can share a batch). */
  key?: string;
}

export function commitStatements(Q: RollupCql, w: RollupCommit, ts: number, seenTtl: number): Statement[] {
  const out: Statement[] = [];
  for (const b of w.buckets) {
    const period = periodOf(b.granularity, b.start);
    const hasBreakdowns = b.granularity !== 'minute' || b.breakdowns.length > 0;
    const key = `${b.trackingId}\u0000${b.granularity}\u0000${period}`;
    out.push({
      query: Q.insertTotals,
      params: [b.trackingId, b.granularity, period, b.start, b.logicVersion, hasBreakdowns, ...counterParams(b.totals)],
      key: `t\u0000${key}`,
    });
    if (!hasBreakdowns) continue;
    // Every dimension gets its row, empty ones too: that is what removes a previous version's values.
    const byDimension = new Map<string, BreakdownRow[]>(DIMENSIONS.map((d) => [d, []]));
    for (const r of b.breakdowns) {
      const list = byDimension.get(r.dimension);
      if (list) list.push(r);
      else byDimension.set(r.dimension, [r]);
    }
    for (const [dimension, rows] of byDimension) {
      out.push({ query: Q.insertBreakdown, params: [b.trackingId, b.granularity, period, dimension, b.start, encodeBreakdownRows(rows)], key: `b\u0000${key}` });
    }
  }
  // One row per visitor (its whole set of visits): see ../visit-history.ts.
  const visitors = visitorRecords(w.sessions);
  for (const v of visitors) out.push({ query: Q.insertSession, params: sessionParams(v) });
  for (const s of w.seen) out.push({ query: Q.insertSeen, params: [s.trackingId, s.eventId, s.at, seenTtl] });

  // Expiry index: one row per kind, hour and commit.
  const seenByHour = groupBy(w.seen, (s) => hourOf(s.at), (s) => [s.trackingId, s.eventId, s.at]);
  const sessionsByHour = groupBy(visitors.map((v) => v.latest), (s) => hourOf(s.end), (s) => [s.trackingId, s.visitorId]);
  for (const [kind, groups, ttl] of [['seen', seenByHour, seenTtl + 3600], ['session', sessionsByHour, 0]] as const) {
    for (const [hour, entries] of groups) {
      // TTL 0 is "no TTL".
      out.push({ query: Q.insertExpiry, params: [kind, hour, w.partition, ts, JSON.stringify(entries), ttl], key: `x\u0000${kind}\u0000${hour}` });
      out.push({ query: Q.insertExpiryHour, params: [kind, hour], key: `h\u0000${kind}` });
    }
  }
  return out;
}

/** Rough size of the mutations, to stay under batch_size_fail_threshold (with per-cell overhead). */
export function estimateBytes(statements: readonly Statement[]): number {
  let n = 0;
  for (const s of statements) {
    n += 16;
    for (const v of s.params) {
      n += 12;
      if (typeof v === 'string') n += Buffer.byteLength(v);
      else if (typeof v === 'number') n += 8;
      else if (v instanceof Uint8Array) n += v.byteLength;
      else if (v && typeof v === 'object' && !(v instanceof Date)) for (const k of Object.keys(v)) n += k.length + 16;
      else n += 8;
    }
  }
  return n;
}

function groupBy<T, E>(items: readonly T[], key: (t: T) => number, entry: (t: T) => E): Map<number, E[]> {
  const out = new Map<number, E[]>();
  for (const t of items) {
    const k = key(t);
    const list = out.get(k);
    if (list) list.push(entry(t));
    else out.set(k, [entry(t)]);
  }
  return out;
}
