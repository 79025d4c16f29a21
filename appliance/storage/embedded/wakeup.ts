/**
 * Lets a consumer loop sleep until either new records were appended in this process or a poll
 * interval passed (another process may append to the same file, and nothing tells us).
 */
export interface Wakeup {
  /** Resolves on notify(), cancel() or after `timeoutMs`, whichever is first. */
  wait(timeoutMs: number): Promise<void>;
  notify(): void;
}

export function createWakeup(): Wakeup {
  const waiters = new Set<() => void>();
  return {
    wait(timeoutMs) {
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        waiters.add(done);
      });
    },
    notify() {
      for (const w of [...waiters]) w();
    },
  };
}
