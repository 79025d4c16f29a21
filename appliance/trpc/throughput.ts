/**
 * The event log as the console shows it: partitions, end offsets, each consumer group's lag per
 * partition, and events/s in (appended) and out (committed per group), from offset samples taken
 * in this process. Rates need two samples: the first call reads twice, a second apart.
 */
import { AGGREGATOR_GROUP, ARCHIVER_GROUP } from '../../core/consumer-groups.ts';
import type { AdminApiDeps } from './context.ts';
import { sleep } from '../../core/async.ts';

export const GROUPS = [AGGREGATOR_GROUP, ARCHIVER_GROUP] as const;
const MIN_INTERVAL_MS = 1_000; // a rate over less than a second is mostly noise
const KEEP_MS = 60_000;

interface Sample {
  at: number;
  end: number[];
  committed: Record<string, number[]>;
}

export interface GroupLag {
  group: string;
  partitions: { partition: number; committed: number; end: number; lag: number }[];
  totalLag: number;
  /** Events/s this group committed over the sampling interval. */
  eventsPerSecOut: number;
}

export interface LogThroughput {
  partitions: number;
  endOffsets: number[];
  groups: GroupLag[];
  eventsPerSecIn: number;
  /** Length of the interval the rates were measured over (ms). */
  intervalMs: number;
  at: number;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/** Pure: the view from the newest sample and an older one. */
export function describeThroughput(partitions: number, older: Sample, newer: Sample): LogThroughput {
  const seconds = (newer.at - older.at) / 1000;
  const rate = (count: number) => (seconds > 0 ? Math.max(0, count) / seconds : 0);
  return {
    partitions,
    endOffsets: newer.end,
    groups: Object.entries(newer.committed).map(([group, committed]) => {
      const rows = newer.end.map((end, partition) => ({ partition, committed: committed[partition] ?? 0, end, lag: Math.max(0, end - (committed[partition] ?? 0)) }));
      return {
        group,
        partitions: rows,
        totalLag: sum(rows.map((r) => r.lag)),
        eventsPerSecOut: rate(sum(committed) - sum(older.committed[group] ?? [])),
      };
    }),
    eventsPerSecIn: rate(sum(newer.end) - sum(older.end)),
    intervalMs: newer.at - older.at,
    at: newer.at,
  };
}

const samplers = new WeakMap<AdminApiDeps, { sample(): Promise<LogThroughput> }>();

export function logThroughput(deps: AdminApiDeps): { sample(): Promise<LogThroughput> } {
  let sampler = samplers.get(deps);
  if (sampler) return sampler;
  const now = deps.now ?? Date.now;
  const history: Sample[] = [];
  async function read(): Promise<Sample> {
    const [end, ...committed] = await Promise.all([deps.eventLog.endOffsets(), ...GROUPS.map((g) => deps.eventLog.committedOffsets(g))]);
    return { at: now(), end, committed: Object.fromEntries(GROUPS.map((g, i) => [g, committed[i]])) };
  }
  sampler = {
    async sample() {
      let newer = await read();
      while (history.length > 0 && newer.at - history[0].at > KEEP_MS) history.shift();
      let older = [...history].reverse().find((s) => newer.at - s.at >= MIN_INTERVAL_MS);
      if (!older) {
        older = newer;
        await sleep(MIN_INTERVAL_MS);
        newer = await read();
        history.push(older);
      }
      history.push(newer);
      return describeThroughput(deps.eventLog.partitions, older, newer);
    },
  };
  samplers.set(deps, sampler);
  return sampler;
}
