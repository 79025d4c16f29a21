/**
 * Group commit: many small appends become one transaction. SQLite commits one transaction at a
 * time and each commit has a fixed cost (WAL frame headers, lock handoff), so committing every
 * request alone caps ingest at a few thousand events/s; sharing one commit among everything that
 * arrived meanwhile makes the cost per event tiny. Every caller's promise settles after the
 * commit that holds its items, so "resolved" still means "durable".
 */

export interface GroupCommitOptions<T> {
  /** Writes items in one transaction, synchronously; throws when nothing was written. */
  write(items: T[]): void;
  /**
   * How long the first append waits for company, ms. 0 flushes on the next turn of the event
   * loop (setImmediate): everything the server received in the same turn shares a commit, and a
   * lone append waits for nothing.
   */
  windowMs?: number;
  /** Upper bound on items per transaction, so one huge burst does not hold the write lock for long. */
  maxItemsPerCommit?: number;
}

export interface GroupCommitter<T> {
  submit(items: readonly T[]): Promise<void>;
  /** Writes what is pending now; every earlier submit is settled when this resolves. */
  flush(): Promise<void>;
  /** Commits so far, for measurement. */
  readonly stats: { commits: number; items: number };
}

interface Pending<T> {
  items: readonly T[];
  resolve(): void;
  reject(err: unknown): void;
}

export function createGroupCommitter<T>(options: GroupCommitOptions<T>): GroupCommitter<T> {
  const windowMs = options.windowMs ?? 0;
  const maxItems = Math.max(1, options.maxItemsPerCommit ?? 5000);
  let queue: Pending<T>[] = [];
  let scheduled = false;
  const stats = { commits: 0, items: 0 };

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    if (windowMs > 0) setTimeout(run, windowMs);
    else setImmediate(run);
  }

  function run(): void {
    scheduled = false;
    const taken = queue;
    queue = [];
    let i = 0;
    while (i < taken.length) {
      // One submission is never split, so it is all-or-nothing; a commit takes whole submissions up to maxItems.
      const group: Pending<T>[] = [];
      let count = 0;
      while (i < taken.length && (group.length === 0 || count + taken[i].items.length <= maxItems)) {
        count += taken[i].items.length;
        group.push(taken[i++]);
      }
      const items: T[] = [];
      for (const p of group) for (const item of p.items) items.push(item);
      try {
        options.write(items);
        stats.commits++;
        stats.items += items.length;
        for (const p of group) p.resolve();
      } catch (err) {
        for (const p of group) p.reject(err);
      }
    }
  }

  return {
    stats,
    submit(items) {
      if (items.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        queue.push({ items, resolve, reject });
        schedule();
      });
    },
    flush() {
      // Writing now (instead of waiting for the timer) settles every pending submit before close.
      if (queue.length > 0) run();
      return Promise.resolve();
    },
  };
}
