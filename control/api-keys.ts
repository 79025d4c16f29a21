/**
 * API keys: creating one (the key is shown once and stored only as its hash) and checking an
 * admin key, the one check behind the REST admin routes and the tRPC admin API. (The stats API
 * checks tenant keys in query/auth.ts with the same hash, core/api-key.ts.)
 */
import type { ApiKeyRecord, Registry } from '../core/ports/index.ts';
import { hashApiKey } from '../core/api-key.ts';
import { ControlError } from './errors.ts';
import { newApiKey, newApiKeyId } from './identifiers.ts';
import { requireTenant } from './tenants.ts';

export async function createApiKey(
  registry: Registry,
  input: { tenantId: string; name: string; scope: ApiKeyRecord['scope'] },
): Promise<{ record: ApiKeyRecord; key: string }> {
  const tenant = await requireTenant(registry, input.tenantId);
  const key = newApiKey();
  const record = await registry.createApiKey({ id: newApiKeyId(), tenantId: tenant.id, name: input.name, keyHash: hashApiKey(key), scope: input.scope });
  return { record, key };
}

const TENANT_KEY_REFUSED = "A tenant API key reads its own tenant's stats only; the admin routes need an admin API key (`almanac api-keys create --admin`).";

/**
 * The admin-scope key record of `key`, or undefined when no key has that hash (each door says
 * how to authenticate). A valid tenant key is refused with `tenant_key_not_allowed`, so the
 * caller learns the key is fine but its scope is not.
 */
export async function adminKeyOf(registry: Pick<Registry, 'findApiKeyByHash'>, key: string, refusal = TENANT_KEY_REFUSED): Promise<ApiKeyRecord | undefined> {
  const record = await registry.findApiKeyByHash(hashApiKey(key));
  if (record && record.scope !== 'admin') throw new ControlError('tenant_key_not_allowed', refusal);
  return record;
}
