/** The aggregator's rollup math: pure, no I/O. The aggregator drives RollupState; the math both sides use (merging rows, derived metrics, labels) is in core/rollup. */
export { RollupState, computeRollups, compareBucketKeys, DEFAULT_ROLLUP_OPTIONS, historyFor } from './state.ts';
export type { RollupOptions, RollupDiff, VisitorKey } from './state.ts';
export { joinedVisits, startSession, extendSession, mergeSessions, isBounce, durationMs, sessionKey, SESSION_ROW_DIMS, EVENT_SESSION_DIMS } from './session.ts';
