/** The zod inputs of the admin API, shared by the routers (and by the console via the router type). */
import { z } from 'zod';

export const id = z.string().min(1).max(200);
export const role = z.enum(['owner', 'admin', 'viewer']);
export const username = z.string().trim().min(2).max(64).regex(/^[A-Za-z0-9._@-]+$/, 'letters, digits and . _ @ - only');
export const password = z.string().min(12, 'at least 12 characters').max(1024);
export const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a UTC day as YYYY-MM-DD');
export const origin = z.string().trim().min(1).max(300);

export const quotas = z.object({
  rateLimitPerSec: z.number().int().positive().max(1_000_000).optional(),
  monthlyEventCap: z.number().int().positive().nullable().optional(),
  retentionDays: z.number().int().positive().max(36_500).optional(),
});

export const workerCounts = z.object({
  collector: z.number().int().min(0).max(64),
  archiver: z.number().int().min(0).max(64),
  aggregator: z.number().int().min(0).max(64),
  query: z.number().int().min(0).max(64),
});
