/** Node liveness on Redis: a key per node, refreshed with a TTL by its heartbeat. */
import type { RedisConnection } from './redis-connection.ts';

export interface LiveNode {
  id: string;
  info: Record<string, unknown>;
}

export interface NodeLiveness {
  /** Marks the node alive for `ttlMs` (default 15 s); call it every few seconds. */
  heartbeat(nodeId: string, info: Record<string, unknown>, ttlMs?: number): Promise<void>;
  /** Nodes whose last heartbeat has not expired. */
  liveNodes(): Promise<LiveNode[]>;
  /** Removes a node at a clean shutdown. */
  forget(nodeId: string): Promise<void>;
}

/** `almanac:nodes:<id>` keys holding the node's info as JSON, refreshed with a TTL. */
export function createNodeLiveness(redis: Pick<RedisConnection, 'client' | 'keyPrefix'>): NodeLiveness {
  const { client } = redis;
  const prefix = `${redis.keyPrefix}nodes:`;
  return {
    async heartbeat(nodeId, info, ttlMs = 15_000) {
      await client.set(prefix + nodeId, JSON.stringify({ ...info, at: Date.now() }), 'PX', Math.max(1, Math.ceil(ttlMs)));
    },
    async liveNodes() {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 200);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      if (keys.length === 0) return [];
      const values = await client.mget(...keys);
      const out: LiveNode[] = [];
      keys.forEach((k, i) => {
        const v = values[i];
        if (v !== null) out.push({ id: k.slice(prefix.length), info: JSON.parse(v) as Record<string, unknown> });
      });
      return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },
    async forget(nodeId) {
      await client.del(prefix + nodeId);
    },
  };
}
