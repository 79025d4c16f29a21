/** Time buckets. All bucket starts are UTC epoch milliseconds. */
export type Granularity = 'minute' | 'hour' | 'day';
export const GRANULARITIES: readonly Granularity[] = ['minute', 'hour', 'day'];

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export const GRANULARITY_MS: Record<Granularity, number> = { minute: MINUTE_MS, hour: HOUR_MS, day: DAY_MS };

export function bucketStart(ts: number, granularity: Granularity): number {
  const size = GRANULARITY_MS[granularity];
  return Math.floor(ts / size) * size;
}

/** UTC day (ms) that holds a bucket: the partition unit of the rollup store. */
export function dayOf(ts: number): number {
  return Math.floor(ts / DAY_MS) * DAY_MS;
}
