/** The cache port: answers, data versions, memos (embedded: process memory; cluster: Redis). */

export interface Cache {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Atomically increments a counter (created at 0) and returns the new value. */
  incr(key: string): Promise<number>;
  /** Stores `value` unless the key exists; returns the value now stored (the winner's, under races). */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<string>;
  close(): Promise<void>;
}
