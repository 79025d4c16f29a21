/** Reactive helpers shared by the screens (create* = reactive, per solid-primitives' naming). */
import { createResource, createSignal, onCleanup, type ResourceReturn } from 'solid-js';

/** A resource that refetches every `everyMs` while the page is visible. */
export function createPolled<T>(fetcher: () => Promise<T>, everyMs: number): ResourceReturn<T> {
  const resource = createResource(fetcher);
  const timer = setInterval(() => {
    if (document.visibilityState === 'visible' && !resource[0].loading) void resource[1].refetch();
  }, everyMs);
  onCleanup(() => clearInterval(timer));
  return resource;
}

/** A mutation run from a button: its pending state, its error, and what it returned last. */
export function createAction<A extends unknown[], R>(fn: (...args: A) => Promise<R>) {
  const [pending, setPending] = createSignal(false);
  const [error, setError] = createSignal<unknown>(null);
  const [result, setResult] = createSignal<R | undefined>(undefined);
  async function run(...args: A): Promise<R | undefined> {
    setPending(true);
    setError(null);
    try {
      const r = await fn(...args);
      setResult(() => r);
      return r;
    } catch (e) {
      setError(() => e);
      return undefined;
    } finally {
      setPending(false);
    }
  }
  return { run, pending, error, result, clearError: () => setError(null) };
}
