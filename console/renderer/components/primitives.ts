/** Reactive helpers shared by the screens (create* = reactive, per solid-primitives' naming). */
import { createResource, createSignal, onCleanup, type ResourceReturn, type Signal } from 'solid-js';
import { createStore, reconcile, unwrap } from 'solid-js/store';

/**
 * A signal kept in a store and updated with reconcile: a refetched list keeps the identity of
 * the items that did not change (matched by `id`), so <For> does not rebuild their rows and an
 * open row keeps its state across polls.
 */
function createDeepSignal<T>(value: T): Signal<T> {
  const [store, setStore] = createStore({ value });
  return [
    () => store.value,
    (next: unknown) => {
      const v = typeof next === 'function' ? (next as (prev: T) => T)(unwrap(store.value) as T) : next;
      setStore('value', reconcile(v as T));
      return store.value;
    },
  ] as Signal<T>;
}

/** A resource that refetches every `everyMs` while the page is visible. */
export function createPolled<T>(fetcher: () => Promise<T>, everyMs: number): ResourceReturn<T> {
  const resource = createResource(fetcher, { storage: createDeepSignal });
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
