/** Tracking IDs: create, read with the snippet, rotate the server key, pause, resume, revoke, counts. */
import { z } from 'zod';
import type { Registry, TrackingIdRecord } from '../core/ports/index.ts';
import { DAY_MS, dayOf } from '../core/time.ts';
import { ControlError } from './errors.ts';
import { newServerKey, newTrackingId } from './identifiers.ts';
import { requireTenant, type Change } from './tenants.ts';
import { foldCounts } from './usage.ts';

export const newTrackingIdInput = z.object({
  tenantId: z.string().min(1).max(200),
  name: z.string().trim().min(1).max(200),
  allowedOrigins: z.array(z.string().trim().min(1).max(300)).min(1).max(100),
  respectDnt: z.boolean().default(false),
});
export type NewTrackingId = z.input<typeof newTrackingIdInput>;

export async function createTrackingId(registry: Registry, input: NewTrackingId): Promise<TrackingIdRecord> {
  const tenant = await requireTenant(registry, input.tenantId);
  const origins = input.allowedOrigins.map(normaliseOrigin);
  if (origins.length === 0) throw new ControlError('invalid_request', 'A tracking ID needs at least one allowed origin, e.g. --origins https://shop.example (or * for any).');
  return registry.createTrackingId({
    id: newTrackingId(),
    tenantId: tenant.id,
    name: input.name.trim() || 'Website',
    allowedOrigins: origins,
    serverKey: newServerKey(),
    status: 'active',
    respectDnt: input.respectDnt ?? false,
  });
}

export function normaliseOrigin(origin: string): string {
  const o = origin.trim();
  if (o === '*') return o;
  let url: URL;
  try {
    url = new URL(o);
  } catch {
    throw new ControlError('invalid_request', `"${origin}" is not an origin: write it as scheme://host[:port], e.g. https://shop.example`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ControlError('invalid_request', `"${origin}" must use http or https`);
  return url.origin;
}

export async function requireTrackingId(registry: Registry, trackingId: string): Promise<TrackingIdRecord> {
  const record = await registry.getTrackingId(trackingId);
  if (!record) throw new ControlError('not_found', `No tracking ID "${trackingId}". List them with: almanac tracking-ids list`);
  return record;
}

/** A revoked tracking ID stays revoked. */
export async function setTrackingIdStatus(registry: Registry, trackingId: string, status: TrackingIdRecord['status']): Promise<Change<TrackingIdRecord>> {
  const before = await requireTrackingId(registry, trackingId);
  if (before.status === 'revoked' && status !== 'revoked') throw new ControlError('conflict', `Tracking ID "${trackingId}" is revoked for good: create a new one.`);
  return { before, after: await registry.updateTrackingId(trackingId, { status }) };
}

/** A new server key; the old one stops working at once (collectors re-read the registry within their cache TTL). */
export async function rotateServerKey(registry: Registry, trackingId: string): Promise<Change<TrackingIdRecord>> {
  const before = await requireTrackingId(registry, trackingId);
  return { before, after: await registry.updateTrackingId(trackingId, { serverKey: newServerKey() }) };
}

/** Accepted, rejected by reason and bot-dropped events over the last `days` UTC days (1 = today). */
export async function trackingIdCounts(registry: Registry, trackingId: string, days: number, now: number) {
  await requireTrackingId(registry, trackingId);
  const today = dayOf(now);
  const from = today - (days - 1) * DAY_MS;
  return { trackingId, from, to: today + DAY_MS, ...foldCounts(await registry.ingestCounts(trackingId, from, today + DAY_MS)) };
}
