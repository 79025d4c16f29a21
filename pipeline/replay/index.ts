/**
 * Replays, the pipeline side: the runner the aggregators use to execute replay jobs (design:
 * README.md in this folder). Starting, inspecting and cancelling jobs is control/replays.ts.
 */
export { startReplayRunner, DEFAULT_RUNNER_CONFIG, logNeededSince, dayCount } from './runner.ts';
export { logSource, logHoldsSince, type ReplaySource } from './log-source.ts';
export type { ReplayHost, ReplayRunner, ReplayRunnerConfig, ReplayRunnerDeps } from './runner.ts';
export { dayKey, parseDay } from './days.ts';
