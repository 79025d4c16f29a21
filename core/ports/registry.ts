/**
 * The registry port: one store of the appliance's records (embedded: SQLite; cluster: MongoDB),
 * made of the parts below. Every part is required: both adapters implement all of them, and the
 * test doubles (tests/support) implement them in memory, so no caller has to ask at run time
 * whether the registry it was given can store replay jobs or admin users.
 */
import type { AdminRegistry } from './admin.ts';
import type { EmbedSecretRegistry } from './embed-secrets.ts';
import type { IngestCountRegistry } from './ingest-counts.ts';
import type { ReplayJobRegistry } from './replay-jobs.ts';
import type { SaltRegistry } from './salts.ts';
import type { ScalingRegistry } from './scaling.ts';
import type { TenancyRegistry } from './tenancy.ts';

export interface Registry
  extends TenancyRegistry, IngestCountRegistry, SaltRegistry, EmbedSecretRegistry, ReplayJobRegistry, ScalingRegistry, AdminRegistry {
  close(): Promise<void>;
}
