/**
 * Runs every port contract against the embedded profile: one SQLite file per suite in a temp
 * directory, removed afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openEmbeddedStorage, type EmbeddedStorage } from '../../appliance/storage/embedded/index.ts';
import { createMemoryCache } from '../../appliance/storage/memory-cache.ts';
import type { Harness } from './fixtures.ts';
import { eventLogContract } from './event-log.contract.ts';
import { rawArchiveContract } from './raw-archive.contract.ts';
import { rollupDeletionContract, rollupStoreContract } from './rollup-store.contract.ts';
import { adminRegistryContract, registryContract, scalingRegistryContract } from './registry.contract.ts';
import type { Registry, ReplayJobRegistry } from '../../core/ports/index.ts';
import { cacheContract } from './cache.contract.ts';
import { replayJobContract } from './replay-jobs.contract.ts';
import { embedSecretsContract } from './embed-secrets.contract.ts';

function embedded<P>(pick: (s: EmbeddedStorage) => P): () => Promise<Harness<P>> {
  return async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'almanac-contract-'));
    const open = () => openEmbeddedStorage({
      path: path.join(dir, 'almanac.sqlite'),
      partitions: 4,
      // The event log suite makes onBatch fail on purpose; other errors should show.
      onError: (err, context) => {
        if (!String((err as Error)?.message).includes('simulated')) console.error(context, err);
      },
    });
    const storage = open();
    const others: EmbeddedStorage[] = [];
    return {
      port: pick(storage),
      async another() {
        const other = open();
        others.push(other);
        return pick(other);
      },
      async cleanup() {
        for (const other of others) await other.close();
        await storage.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  };
}

eventLogContract('embedded event log (SQLite)', embedded((s) => s.eventLog));
rawArchiveContract('embedded raw archive (SQLite)', embedded((s) => s.archive));
rollupStoreContract('embedded rollup store (SQLite)', embedded((s) => s.rollups));
rollupDeletionContract('embedded rollup store: tenant deletion (SQLite)', embedded((s) => s.rollups));
registryContract('embedded registry (SQLite)', embedded((s) => s.registry));
adminRegistryContract('embedded registry: admin users, sessions, audit (SQLite)', embedded((s) => s.registry));
embedSecretsContract('embedded registry: embed secrets (SQLite)', embedded((s) => s.registry));
scalingRegistryContract('embedded registry: scaling (SQLite)', embedded((s) => s.registry), { scalable: false });
replayJobContract('embedded registry: replay jobs (SQLite)', embedded((s) => s.registry as Registry & ReplayJobRegistry));
cacheContract('embedded cache (in-process LRU)', async () => {
  const cache = createMemoryCache({ maxEntries: 10_000 });
  return { port: cache, cleanup: () => cache.close() };
});
