/**
 * Embed-token secrets on SQLite (table embed_secrets, migration 4): the EmbedSecretRegistry
 * methods, spread into the embedded Registry.
 */
import type { EmbedSecret, EmbedSecretRegistry } from '../../../core/ports/index.ts';
import type { SqliteDatabase } from './database.ts';

interface Row {
  tenant_id: string;
  secret: string;
  generation: number;
  rotated_at: number;
}

export function createEmbeddedEmbedSecrets(db: SqliteDatabase, now: () => number): EmbedSecretRegistry {
  const select = db.prepare<[string], Row>('SELECT * FROM embed_secrets WHERE tenant_id = ?');
  const insertIfAbsent = db.prepare('INSERT INTO embed_secrets (tenant_id, secret, generation, rotated_at) VALUES (?, ?, 1, ?) ON CONFLICT (tenant_id) DO NOTHING');
  const rotate = db.prepare(
    `INSERT INTO embed_secrets (tenant_id, secret, generation, rotated_at) VALUES (?, ?, 1, ?)
     ON CONFLICT (tenant_id) DO UPDATE SET secret = excluded.secret, generation = generation + 1, rotated_at = excluded.rotated_at`,
  );
  const requireTenant = (tenantId: string) => {
    if (!db.prepare('SELECT 1 FROM tenants WHERE id = ?').get(tenantId)) {
      throw new Error(`Unknown tenant '${tenantId}': no embed secret was stored. List tenants to find its ID.`);
    }
  };
  const initTx = db.transaction((tenantId: string, secret: string) => {
    requireTenant(tenantId);
    insertIfAbsent.run(tenantId, secret, now());
    return select.get(tenantId)!;
  });
  const rotateTx = db.transaction((tenantId: string, secret: string) => {
    requireTenant(tenantId);
    rotate.run(tenantId, secret, now());
    return select.get(tenantId)!;
  });

  return {
    async getEmbedSecret(tenantId) {
      const row = select.get(tenantId);
      return row && fromRow(row);
    },
    async initEmbedSecret(tenantId, secret) {
      return fromRow(initTx.immediate(tenantId, secret));
    },
    async rotateEmbedSecret(tenantId, secret) {
      return fromRow(rotateTx.immediate(tenantId, secret));
    },
  };
}

function fromRow(r: Row): EmbedSecret {
  return { tenantId: r.tenant_id, secret: r.secret, generation: r.generation, rotatedAt: r.rotated_at };
}
