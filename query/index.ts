/** The public surface of the query service. */
export { registerQueryRoutes } from './routes.ts';
export {
  createQueryService, resolveQueryConfig, DEFAULT_QUERY_CONFIG,
  type QueryDeps, type QueryConfig, type ResolvedQueryConfig, type QueryService, type QueryAnswer,
} from './service.ts';
export { METRICS, type Metric } from './metrics.ts';
export { PERIODS, INTERVALS, type PeriodName, type Interval } from './period.ts';
export type { Endpoint, StatsQuery } from './params.ts';
