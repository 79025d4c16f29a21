/**
 * The dashboard's only data source: the public stats API (query/http.ts), called with the embed
 * token as the bearer. Nothing here computes a figure; the dashboard shows what the API returns.
 */
export type MetricName = 'visitors' | 'visits' | 'pageviews' | 'views_per_visit' | 'bounce_rate' | 'visit_duration' | 'events' | 'conversions' | 'revenue';
export type Revenue = Record<string, number>;
export type Value = number | Revenue;

export interface RangeParams {
  period: string;
  /** period=custom: "YYYY-MM-DD,YYYY-MM-DD". */
  date?: string;
  timezone: string;
}

export interface AggregateAnswer {
  results: Record<string, { value: Value; change?: number | null | Record<string, number | null> }>;
  meta: { from: string; to: string; timezone: string; dataAsOf: string | null; comparison?: { from: string; to: string } };
}
export interface TimeseriesAnswer {
  results: ({ date: string } & Record<string, Value | string>)[];
  meta: { interval: string };
}
export interface BreakdownAnswer {
  results: Record<string, Value | string>[];
  meta: { property: string; totalRows: number };
}

export class StatsError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export interface StatsClient {
  aggregate(range: RangeParams, metrics: readonly MetricName[]): Promise<AggregateAnswer>;
  timeseries(range: RangeParams, metrics: readonly MetricName[], interval: string): Promise<TimeseriesAnswer>;
  breakdown(range: RangeParams, property: string, metrics: readonly MetricName[], limit: number): Promise<BreakdownAnswer>;
  realtimeVisitors(): Promise<number>;
}

export function makeStatsClient(token: string, base = '', fetcher: typeof fetch = fetch): StatsClient {
  async function get<T>(path: string, params: Record<string, string | undefined>): Promise<T> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) qs.set(k, v);
    const res = await fetcher(`${base}/api/v1/stats/${path}?${qs}`, { headers: { authorization: `Bearer ${token}` } });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) {
      const e = (body as { error?: { code?: string; message?: string; detail?: string } }).error ?? {};
      throw new StatsError(res.status, e.code ?? 'error', [e.message, e.detail].filter(Boolean).join(' ') || `HTTP ${res.status}`);
    }
    return body as T;
  }
  const range = (r: RangeParams) => ({ period: r.period, date: r.date, timezone: r.timezone });
  return {
    aggregate: (r, metrics) => get('aggregate', { ...range(r), metrics: metrics.join(','), compare: 'previous_period' }),
    timeseries: (r, metrics, interval) => get('timeseries', { ...range(r), metrics: metrics.join(','), interval }),
    breakdown: (r, property, metrics, limit) => get('breakdown', { ...range(r), property, metrics: metrics.join(','), limit: String(limit) }),
    realtimeVisitors: () => get('realtime/visitors', {}),
  };
}

/** The token's claims, read without verifying (the server verifies): to hide what it cannot show. */
export function tokenClaims(token: string): { tid?: string; exp?: number; f?: { pagePrefix?: string } } {
  try {
    const body = token.split('.')[1] ?? '';
    const json = atob(body.replace(/-/g, '+').replace(/_/g, '/'));
    return JSON.parse(json) as { tid?: string; exp?: number; f?: { pagePrefix?: string } };
  } catch {
    return {};
  }
}
