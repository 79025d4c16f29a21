/** Ingest counters read for the console: per tracking ID and summed per tenant. Pure folding + registry reads. */
import type { Registry } from '../core/ports/index.ts';
import { DAY_MS, dayOf } from '../core/time.ts';

export interface IdCounts {
  accepted: number;
  /** By rejection code, e.g. origin_not_allowed. */
  rejected: Record<string, number>;
  /** By bot reason. */
  botDropped: Record<string, number>;
  duplicate: number;
  rejectedTotal: number;
  botDroppedTotal: number;
}

/** Folds raw counters (accepted, rejected:<code>, bot:<reason>, duplicate) into the console's shape. */
export function foldCounts(raw: Record<string, number>): IdCounts {
  const out: IdCounts = { accepted: 0, rejected: {}, botDropped: {}, duplicate: 0, rejectedTotal: 0, botDroppedTotal: 0 };
  for (const [key, n] of Object.entries(raw)) {
    if (key === 'accepted') out.accepted += n;
    else if (key === 'duplicate') out.duplicate += n;
    else if (key.startsWith('rejected:')) {
      out.rejected[key.slice(9)] = (out.rejected[key.slice(9)] ?? 0) + n;
      out.rejectedTotal += n;
    } else if (key.startsWith('bot:')) {
      out.botDropped[key.slice(4)] = (out.botDropped[key.slice(4)] ?? 0) + n;
      out.botDroppedTotal += n;
    }
  }
  return out;
}

export function monthStart(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** Accepted events today and this month (UTC) over some tracking IDs. */
export async function acceptedUsage(registry: Registry, trackingIds: readonly string[], now: number): Promise<{ eventsToday: number; eventsThisMonth: number }> {
  const today = dayOf(now);
  let eventsToday = 0;
  let eventsThisMonth = 0;
  await Promise.all(trackingIds.map(async (id) => {
    const [day, month] = await Promise.all([
      registry.ingestCounts(id, today, today + DAY_MS),
      registry.ingestCounts(id, monthStart(now), today + DAY_MS),
    ]);
    eventsToday += day.accepted ?? 0;
    eventsThisMonth += month.accepted ?? 0;
  }));
  return { eventsToday, eventsThisMonth };
}
