/**
 * Redis in the cluster profile (ioredis): the shared Cache, the cluster-wide RateLimiter, node
 * liveness and the registry's change notifications, one module each, over one connection
 * (redis-connection.ts). Redis is an accelerator here, never the source of truth: each part says
 * what it does while Redis is down.
 */
export { openRedis, type RedisConnection, type RedisConnectionOptions } from './redis-connection.ts';
export { createRedisCache } from './redis-cache.ts';
export { createRedisRateLimiter, type RedisRateLimiter } from './redis-rate-limiter.ts';
export { createNodeLiveness, type LiveNode, type NodeLiveness } from './redis-liveness.ts';
export { createRedisInvalidation } from './redis-invalidation.ts';
