/** The replay-job contract against the MongoDB registry on the native stack (FerretDB). */
import { describe, test } from 'node:test';
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { createMongoRegistry } from '../../appliance/storage/cluster/mongo-registry.ts';
import { replayJobContract } from '../../pipeline/replay/registry-contract.ts';

const url = process.env.ALMANAC_MONGO_URL;
if (!url) {
  describe('replay jobs in the MongoDB registry', () => {
    test('needs the native stack (npm run stack -- up; run through scripts/run-tests.mjs)', { skip: true }, () => {});
  });
} else {
  replayJobContract('replay jobs in the MongoDB registry (FerretDB)', async () => {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
    await client.connect();
    const name = `almanac_replay_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
    const db = client.db(name);
    const registry = await createMongoRegistry(db);
    return {
      registry,
      async cleanup() {
        await registry.close();
        await db.dropDatabase().catch(() => {});
        await client.close();
      },
    };
  });
}
