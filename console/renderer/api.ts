/**
 * The renderer's tRPC client of the admin API: queries and mutations over httpBatchLink,
 * subscriptions over Server-Sent Events (httpSubscriptionLink; an EventSource cannot send
 * headers, so the token travels as tRPC connection params). Only the router's TYPE is imported:
 * nothing of the server ends up in the bundle.
 */
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, type TRPCLink } from '@trpc/client';
import type { inferRouterOutputs } from '@trpc/server';
import { observable } from '@trpc/server/observable';
import { readableError } from './errors.ts';
import type { AdminRouter } from '../../appliance/trpc/router.ts';

/** Where the appliance mounts the admin API. */
export const ADMIN_API_PATH = '/api/trpc';

export interface Connection {
  /** The appliance's base URL ('' = the origin that served the console). */
  baseUrl: string;
  /** The current token (session token or admin API key), read at each call. */
  token: () => string | null;
  /** Called when a call fails because the session ended (expired, signed out elsewhere, user disabled). */
  onSignInNeeded?: (error: unknown) => void;
}

/** Passes everything through; tells the app when an answer means "sign in again". */
function sessionWatchLink(onSignInNeeded: (error: unknown) => void): TRPCLink<AdminRouter> {
  return () => ({ op, next }) => observable((observer) => next(op).subscribe({
    next: (value) => observer.next(value),
    error: (error) => {
      if (op.path !== 'auth.signIn' && readableError(error).needsSignIn) onSignInNeeded(error);
      observer.error(error);
    },
    complete: () => observer.complete(),
  }));
}

export function makeAdminClient(connection: Connection) {
  const url = connection.baseUrl.replace(/\/+$/, '') + ADMIN_API_PATH;
  return createTRPCClient<AdminRouter>({
    links: [
      sessionWatchLink((error) => connection.onSignInNeeded?.(error)),
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
