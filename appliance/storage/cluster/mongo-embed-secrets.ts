/**
 * Embed-token secrets on MongoDB (collection `embed_secrets`, one document per tenant): the
 * EmbedSecretRegistry methods, spread into the Mongo Registry.
 *
 * FerretDB v1 has no multi-document transactions and can lose one of two concurrent updates of a
 * document, so a rotation is a compare-and-set on the generation, retried: two concurrent
 * rotations end with generation + 2 and one of the two secrets, never a generation that two
 * different secrets were handed out under.
 */
import type { Db } from 'mongodb';
import type { EmbedSecret, EmbedSecretRegistry } from '../../../core/ports/index.ts';

interface SecretDoc {
  _id: string;
  secret: string;
  generation: number;
  rotatedAt: number;
}

export async function createMongoEmbedSecrets(db: Db, now: () => number): Promise<EmbedSecretRegistry> {
  const secrets = db.collection<SecretDoc>('embed_secrets');
  const tenants = db.collection<{ _id: string }>('tenants');
  const requireTenant = async (tenantId: string) => {
    if (!(await tenants.findOne({ _id: tenantId }, { projection: { _id: 1 } }))) {
      throw new Error(`Unknown tenant '${tenantId}': no embed secret was stored. List tenants to find its ID.`);
    }
  };
  const read = async (tenantId: string) => {
    const d = await secrets.findOne({ _id: tenantId });
    return d ? fromDoc(d) : undefined;
  };

  return {
    getEmbedSecret: read,
    async initEmbedSecret(tenantId, secret) {
      await requireTenant(tenantId);
      try {
        await secrets.insertOne({ _id: tenantId, secret, generation: 1, rotatedAt: now() });
      } catch (err) {
        if ((err as { code?: number }).code !== 11000) throw err;
      }
      return (await read(tenantId))!;
    },
    async rotateEmbedSecret(tenantId, secret) {
      await requireTenant(tenantId);
      for (let attempt = 0; attempt < 20; attempt++) {
        const current = await read(tenantId);
        if (!current) {
          try {
            await secrets.insertOne({ _id: tenantId, secret, generation: 1, rotatedAt: now() });
            return (await read(tenantId))!;
          } catch (err) {
            if ((err as { code?: number }).code !== 11000) throw err;
            continue;
          }
        }
        const next = { secret, generation: current.generation + 1, rotatedAt: now() };
        const done = await secrets.updateOne({ _id: tenantId, generation: current.generation }, { $set: next });
        if (done.modifiedCount === 1) {
          const stored = await read(tenantId);
          if (stored && stored.secret === secret) return stored;
        }
      }
      throw new Error(`Could not rotate the embed secret of tenant '${tenantId}': it kept changing under concurrent rotations. Try again.`);
    },
  };
}

function fromDoc(d: SecretDoc): EmbedSecret {
  return { tenantId: d._id, secret: d.secret, generation: d.generation, rotatedAt: d.rotatedAt };
}
