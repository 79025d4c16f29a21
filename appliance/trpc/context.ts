/**
 * What every admin procedure gets: its dependencies (passed in, never imported as singletons)
 * and the caller's identity, resolved from a Bearer token (a session token of an admin user, or
 * an admin-scope API key acting as the `owner` service identity).
 */
import type { Cache, EventLog, RawArchive, Registry, RollupStore } from '../../core/ports/index.ts';
export type { Identity } from '../../control/sessions.ts';

export interface AdminApiDeps {
  registry: Registry;
  eventLog: EventLog;
  archive: RawArchive;
  rollups: RollupStore;
  cache: Cache;
  /** Round-trip checks per service (Storage.ping). */
  ping(): Promise<Record<string, boolean>>;
  /** Embedded profile: the in-process aggregator's newest event time per tracking ID. */
  newestEventTs?: () => Record<string, number> | undefined;
  publicUrl: string;
  profile: 'embedded' | 'cluster';
  now?: () => number;
  log?: (message: string) => void;
}

export interface AdminContext {
  deps: AdminApiDeps;
  /** The raw token from the Authorization header or the subscription's connection params. */
  token: string | null;
  now: () => number;
}
