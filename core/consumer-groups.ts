/**
 * The event log's consumer groups. The pipeline joins them; the operator views (lag per group,
 * events/s out) and the replays (how far the archiver got) read their committed offsets. Kept in
 * core so every side names them once.
 */
export const ARCHIVER_GROUP = 'almanac-archiver';
/** The segment writer: marks late events' days dirty; seals and rebuilds explore segments. */
export const SEGMENTS_GROUP = 'almanac-segments';
export const AGGREGATOR_GROUP = 'almanac-aggregator';
