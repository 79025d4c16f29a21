/** Reading raw items before validation: their tracking ID, and a rejection that names the item. */
import type { Rejection } from '../../core/errors.ts';
import type { ItemRejection } from './types.ts';

const TRACKING_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The item's trackingId when it is well-formed, else undefined. */
export function trackingIdOf(item: unknown): string | undefined {
  if (!item || typeof item !== 'object' || Array.isArray(item)) return undefined;
  const id = (item as { trackingId?: unknown }).trackingId;
  return typeof id === 'string' && TRACKING_ID.test(id) ? id : undefined;
}

export function itemRejection(index: number, item: unknown, r: Rejection): ItemRejection {
  const raw = item && typeof item === 'object' ? (item as { eventId?: unknown }).eventId : undefined;
  // Echo the eventId so the sender can match the rejection, but not an arbitrarily long one.
  const eventId = typeof raw === 'string' ? raw.slice(0, 64) : null;
  return { index, eventId, code: r.code, message: r.message, ...(r.detail ? { detail: r.detail } : {}) };
}
