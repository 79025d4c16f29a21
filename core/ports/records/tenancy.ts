/** The tenancy records of the registry: tenants, their tracking IDs and API keys. */

export interface Tenant {
  id: string;
  name: string;
  status: 'active' | 'suspended';
  /** Events per second per tracking ID (token bucket refill). */
  rateLimitPerSec: number;
  monthlyEventCap: number | null;
  retentionDays: number;
  createdAt: number;
}

export interface TrackingIdRecord {
  id: string;
  tenantId: string;
  name: string;
  /** Origins allowed to send from browsers, e.g. https://shop.example; '*' allows any. */
  allowedOrigins: string[];
  /** Server-side key, sent as X-Almanac-Key. Stored as given: the collector compares it in constant time. */
  serverKey: string;
  status: 'active' | 'paused' | 'revoked';
  /** Honour Do-Not-Track in the tracker. */
  respectDnt: boolean;
  createdAt: number;
}

export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  name: string;
  /** sha256 of the key; the key itself is shown once. */
  keyHash: string;
  /** 'tenant' reads that tenant's stats; 'admin' also manages the registry. */
  scope: 'tenant' | 'admin';
  createdAt: number;
}
