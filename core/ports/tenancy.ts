import type { ApiKeyRecord, Tenant, TrackingIdRecord } from './records/tenancy.ts';

/** Tenants, their tracking IDs and API keys, in the registry. */
export interface TenancyRegistry {
  createTenant(t: Omit<Tenant, 'createdAt'>): Promise<Tenant>;
  getTenant(id: string): Promise<Tenant | undefined>;
  listTenants(): Promise<Tenant[]>;
  updateTenant(id: string, patch: Partial<Omit<Tenant, 'id' | 'createdAt'>>): Promise<Tenant>;

  createTrackingId(t: Omit<TrackingIdRecord, 'createdAt'>): Promise<TrackingIdRecord>;
  getTrackingId(id: string): Promise<TrackingIdRecord | undefined>;
  listTrackingIds(tenantId?: string): Promise<TrackingIdRecord[]>;
  updateTrackingId(id: string, patch: Partial<Omit<TrackingIdRecord, 'id' | 'tenantId' | 'createdAt'>>): Promise<TrackingIdRecord>;

  createApiKey(k: Omit<ApiKeyRecord, 'createdAt'>): Promise<ApiKeyRecord>;
  findApiKeyByHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
  listApiKeys(tenantId?: string): Promise<ApiKeyRecord[]>;
}
