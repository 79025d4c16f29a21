/** The registry's change notifications over Redis pub/sub (see mongo-lookup-cache.ts). */
import type { RedisConnection } from './redis-connection.ts';
import type { RegistryInvalidation } from './mongo-lookup-cache.ts';

export function createRedisInvalidation(redis: Pick<RedisConnection, 'client' | 'subscriber'>, channel: string): RegistryInvalidation {
  const handlers = new Set<(message: string) => void>();
  const ensureSubscribed = () => {
    // Idempotent in Redis. ioredis re-subscribes after a reconnect by itself, but only to channels
    // whose first SUBSCRIBE succeeded, so a failed one is retried whenever the connection is ready.
    if (handlers.size > 0) redis.subscriber.subscribe(channel).catch(() => {});
  };
  redis.subscriber.on('ready', ensureSubscribed);
  redis.subscriber.on('message', (ch: string, message: string) => {
    if (ch === channel) for (const h of handlers) h(message);
  });
  return {
    async publish(message) {
      await redis.client.publish(channel, message);
    },
    subscribe(onMessage) {
      handlers.add(onMessage);
      ensureSubscribed();
      return () => void handlers.delete(onMessage);
    },
  };
}
