/** What every screen gets: the API client and the session (a Solid context, set once by the app). */
import { createContext, useContext } from 'solid-js';
import type { AdminClient } from './api.ts';
import type { Session } from './session.ts';

export interface ConsoleContext {
  client: AdminClient;
  session: Session;
  /** The signed-in identity's role: screens hide what a viewer may not do. */
  role: () => 'owner' | 'admin' | 'viewer' | null;
}

export const ConsoleCtx = createContext<ConsoleContext>();

export function useConsole(): ConsoleContext {
  const ctx = useContext(ConsoleCtx);
  if (!ctx) throw new Error('useConsole outside the console app');
  return ctx;
}
