/** Cache in memory with TTLs on the given clock; counts calls, and can be made to fail. */
import type { Cache } from '../../../core/ports/index.ts';

export class MemoryCache implements Cache {
  private readonly entries = new Map<string, { value: string; expiresAt: number }>();
  gets = 0;
  sets = 0;
  /** Set to make every call fail (cache down). */
  failing = false;

  constructor(private readonly now: () => number = Date.now) {}

  async get(key: string): Promise<string | undefined> {
    this.check();
    this.gets++;
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.check();
    this.sets++;
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs });
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async incr(key: string): Promise<number> {
    this.check();
    const n = Number((await this.get(key)) ?? 0) + 1;
    this.entries.set(key, { value: String(n), expiresAt: Infinity });
    return n;
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<string> {
    const existing = await this.get(key);
    if (existing !== undefined) return existing;
    await this.set(key, value, ttlMs);
    return value;
  }

  /** TTL of a stored key, ms from now (to check which TTL a query got). */
  ttlOf(key: string): number | undefined {
    const e = this.entries.get(key);
    return e ? e.expiresAt - this.now() : undefined;
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  async close(): Promise<void> {}

  private check(): void {
    if (this.failing) throw new Error('cache down');
  }
}
