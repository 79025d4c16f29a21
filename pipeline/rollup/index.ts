/** The rollup math: pure, no I/O. The aggregator drives RollupState; the query service merges rows. */
export { RollupState, computeRollups, compareBucketKeys, DEFAULT_ROLLUP_OPTIONS, historyFor } from './state.ts';
export type { RollupOptions, RollupDiff, VisitorKey } from './state.ts';
export { addCounters, mergeRows, visitorCount, viewsPerVisit, bounceRate, avgVisitDurationMs } from '../../core/rollup/counters.ts';
export { NONE, OTHER, label, toMinorUnits, fromMinorUnits } from '../../core/rollup/labels.ts';
export { joinedVisits, startSession, extendSession, mergeSessions, isBounce, durationMs, sessionKey, SESSION_ROW_DIMS, EVENT_SESSION_DIMS } from './session.ts';
