/**
 * The version of the processing logic (sessionisation, rollup math). Every rollup records the
 * version that produced it; bump this when a change alters the numbers, and replay history
 * to recompute old buckets with the new logic.
 */
export const LOGIC_VERSION = 1;
