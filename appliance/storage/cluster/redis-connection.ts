/**
 * The Redis connection of the cluster profile (ioredis): two clients, one for commands and one
 * for pub/sub. Redis is an accelerator here, never the source of truth, so its outage must not
 * take requests down with it, nor make them wait: the clients have no offline queue (a command
 * while disconnected fails at once), one retry per command, a short connect timeout and a
 * command timeout; they reconnect in the background.
 */
import { Redis } from 'ioredis';
import { withTimeout } from '../../../core/async.ts';

export interface RedisConnectionOptions {
  url: string;
  /** Prefix of every key Almanac writes. Default `almanac:`. */
  keyPrefix?: string;
  /** A command that gets no answer within this time fails (and the limiter falls back). Default 500 ms. */
  commandTimeoutMs?: number;
  /** Connection state changes (down / back). Default: none. */
  log?: (message: string) => void;
}

export interface RedisConnection {
  /** Commands. */
  client: Redis;
  /** Pub/sub (a connection in subscribe mode can run nothing else). */
  subscriber: Redis;
  keyPrefix: string;
  ping(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Connects two clients (commands, pub/sub); rejects if Redis cannot be reached at start. */
export async function openRedis(options: RedisConnectionOptions): Promise<RedisConnection> {
  const log = options.log ?? (() => {});
  const common = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: options.commandTimeoutMs ?? 500,
    // Reconnect forever in the background, at most every 2 s.
    retryStrategy: (times: number) => Math.min(100 * times, 2000),
  };
  const client = new Redis(options.url, { ...common, connectionName: 'almanac' });
  const subscriber = new Redis(options.url, { ...common, connectionName: 'almanac-sub', commandTimeout: undefined });
  let lastError: Error | undefined;
  for (const [name, c] of [['commands', client], ['pub/sub', subscriber]] as const) {
    let down = false;
    // Without an 'error' listener ioredis prints every failed reconnect attempt.
    c.on('error', (err: Error) => {
      lastError = err;
      if (!down) log(`redis (${name}) unavailable: ${err.message}; working without it until it is back`);
      down = true;
    });
    c.on('ready', () => {
      if (down) log(`redis (${name}) is back`);
      down = false;
    });
  }
  try {
    await Promise.all([client.connect(), subscriber.connect()]);
  } catch (err) {
    client.disconnect();
    subscriber.disconnect();
    // connect() rejects with "Connection is closed."; the socket error says why.
    throw lastError ?? err;
  }
  return {
    client,
    subscriber,
    keyPrefix: options.keyPrefix ?? 'almanac:',
    async ping(timeoutMs = 1000) {
      try {
        return (await withTimeout(client.ping(), timeoutMs)) === 'PONG';
      } catch {
        return false;
      }
    },
    async close() {
      await Promise.all([client.quit().catch(() => client.disconnect()), subscriber.quit().catch(() => subscriber.disconnect())]);
    },
  };
}
