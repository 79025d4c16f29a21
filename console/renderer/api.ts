/**
 * The renderer's tRPC client of the admin API: queries and mutations over httpBatchLink,
 * subscriptions over Server-Sent Events (httpSubscriptionLink; an EventSource cannot send
 * headers, so the token travels as tRPC connection params). Only the router's TYPE is imported:
 * nothing of the server ends up in the bundle.
 */
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink } from '@trpc/client';
import type { inferRouterOutputs } from '@trpc/server';
import type { AdminRouter } from '../../appliance/admin-api/router.ts';

/** Where the appliance mounts the admin API. */
export const ADMIN_API_PATH = '/api/trpc';

export interface Connection {
  /** The appliance's base URL ('' = the origin that served the console). */
  baseUrl: string;
  /** The current token (session token or admin API key), read at each call. */
  token: () => string | null;
}

export function makeAdminClient(connection: Connection) {
  const url = connection.baseUrl.replace(/\/+$/, '') + ADMIN_API_PATH;
  return createTRPCClient<AdminRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({
          url,
          connectionParams: () => {
            const token = connection.token();
            return token ? { token } : {};
          },
        }),
        false: httpBatchLink({
          url,
          headers: () => {
            const token = connection.token();
            return token ? { authorization: `Bearer ${token}` } : {};
          },
        }),
      }),
    ],
  });
}

export type AdminClient = ReturnType<typeof makeAdminClient>;
export type Outputs = inferRouterOutputs<AdminRouter>;
