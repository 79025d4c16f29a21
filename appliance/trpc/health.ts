/** health: services up/down with latency, freshness per tracking ID, error rates. */
import { z } from 'zod';
import { DAY_MS, dayOf, GRANULARITY_MS } from '../../core/time.ts';
import { router, viewerProcedure } from './procedures.ts';
import type { AdminApiDeps } from './context.ts';
import { foldCounts } from '../../control/usage.ts';

const PROBE_TIMEOUT_MS = 2_000;

/** One round trip per service through its port, timed. Which services exist depends on the profile. */
function probes(deps: AdminApiDeps): Record<string, () => Promise<unknown>> {
  if (deps.profile === 'embedded') return { sqlite: () => deps.registry.getTenant('__health__') };
  return {
    kafka: () => deps.eventLog.endOffsets(),
    mongodb: () => deps.registry.getTenant('__health__'),
    cassandra: () => deps.rollups.checkpoint(0),
    redis: () => deps.cache.get('__health__'),
  };
}

async function timed(probe: () => Promise<unknown>, now: () => number): Promise<{ ok: boolean; latencyMs: number; error: string | null }> {
  const start = now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([probe(), new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS); })]);
    return { ok: true, latencyMs: now() - start, error: null };
  } catch (error) {
    return { ok: false, latencyMs: now() - start, error: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

export const healthRouter = router({
  /** Up = the same check /healthz uses answers (Storage.ping) and the timed round trip succeeds. */
  services: viewerProcedure.query(async ({ ctx }) => {
    const clock = () => performance.now();
    const [pings, rounds] = await Promise.all([
      ctx.deps.ping().catch(() => ({}) as Record<string, boolean>),
      Promise.all(Object.entries(probes(ctx.deps)).map(async ([name, probe]) => [name, await timed(probe, clock)] as const)),
    ]);
    return rounds.map(([name, r]) => ({ name, up: (pings[name] ?? r.ok) && r.ok, latencyMs: Math.round(r.latencyMs * 10) / 10, error: r.error }));
  }),

  /** Age of the newest event in the rollups per tracking ID (null when none in the last hour). */
  freshness: viewerProcedure
    .input(z.object({ tenantId: z.string().optional() }).default({}))
    .query(async ({ ctx, input }) => {
      const now = ctx.now();
      const newest = ctx.deps.newestEventTs?.();
      const ids = await ctx.deps.registry.listTrackingIds(input.tenantId);
      return Promise.all(ids.map(async (t) => {
        let ts: number | null = newest?.[t.id] ?? null;
        const source = ts !== null ? 'aggregator' : 'rollups';
        if (ts === null) {
          // Cluster, or nothing aggregated for this site since this process started: the newest
          // minute bucket of the last hour (a bucket's start, so up to a minute older than the event).
          const rows = await ctx.deps.rollups.readTotals(t.id, 'minute', now - 3_600_000, now + GRANULARITY_MS.minute);
          ts = rows.length ? rows[rows.length - 1].start : null;
        }
        return { trackingId: t.id, tenantId: t.tenantId, name: t.name, newestEventTs: ts, ageMs: ts === null ? null : Math.max(0, now - ts), source };
      }));
    }),

  /** Per tracking ID over the last `days` UTC days: rejected / (accepted + rejected), and bots. */
  errorRates: viewerProcedure
    .input(z.object({ tenantId: z.string().optional(), days: z.number().int().min(1).max(90).default(1) }).default({}))
    .query(async ({ ctx, input }) => {
      const today = dayOf(ctx.now());
      const ids = await ctx.deps.registry.listTrackingIds(input.tenantId);
      return Promise.all(ids.map(async (t) => {
        const c = foldCounts(await ctx.deps.registry.ingestCounts(t.id, today - (input.days - 1) * DAY_MS, today + DAY_MS));
        const seen = c.accepted + c.rejectedTotal;
        return { trackingId: t.id, tenantId: t.tenantId, accepted: c.accepted, rejected: c.rejectedTotal, botDropped: c.botDroppedTotal, rejectedByReason: c.rejected, errorRate: seen === 0 ? 0 : c.rejectedTotal / seen };
      }));
    }),
});
