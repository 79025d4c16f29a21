/** The replay-job contract against the embedded (SQLite) registry. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openEmbeddedStorage } from '../../appliance/storage/embedded/index.ts';
import { replayJobContract } from './registry-contract.ts';

replayJobContract('replay jobs in the embedded registry (SQLite)', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'almanac-replay-'));
  const storage = openEmbeddedStorage({ path: path.join(dir, 'almanac.sqlite'), partitions: 2 });
  return {
    registry: storage.registry,
    async cleanup() {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
