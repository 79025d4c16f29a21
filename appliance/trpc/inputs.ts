/** The zod inputs the admin routers share that belong to no one operation (the operations' own schemas are in control/). */
import { z } from 'zod';

export const id = z.string().min(1).max(200);
export const role = z.enum(['owner', 'admin', 'viewer']);
export const username = z.string().trim().min(2).max(64).regex(/^[A-Za-z0-9._@-]+$/, 'letters, digits and . _ @ - only');
export const password = z.string().min(12, 'at least 12 characters').max(1024);
