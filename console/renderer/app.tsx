/**
 * The console's shell: picks the connection, signs in, then shows the screen the URL hash names
 * inside the layout (navigation, who is signed in, sign out).
 */
import { createResource, createSignal, For, Match, Show, Switch } from 'solid-js';
import { makeAdminClient } from './api.ts';
import { ConsoleCtx } from './context.ts';
import { readableError } from './errors.ts';
import { createRoute, hrefFor, SCREENS, type Screen } from './route.ts';
import { createSession } from './session.ts';
import { SignIn } from './screens/sign-in.tsx';
import { Connections } from './screens/connections.tsx';
import { Overview } from './screens/overview.tsx';
import { Tenants } from './screens/tenants.tsx';
import { TrackingIds } from './screens/tracking-ids.tsx';
import { Replays } from './screens/replays.tsx';
import { Scaling } from './screens/scaling.tsx';
import { Audit } from './screens/audit.tsx';

const TITLES: Record<Screen, string> = {
  overview: 'Overview', tenants: 'Tenants', 'tracking-ids': 'Tracking IDs', replays: 'Replays', scaling: 'Scaling', audit: 'Audit log',
};

/** `?api=https://host:8420` points the console at another appliance (the CSP of /console allows only its own origin). */
function apiBase(): string {
  return new URLSearchParams(location.search).get('api') ?? '';
}

export function App() {
  const session = createSession();
  const [signInReason, setSignInReason] = createSignal<unknown>(null);
  // A session that ends while the console is open (expired, user disabled) leads back to sign-in, saying why.
  const client = makeAdminClient({
    baseUrl: apiBase(),
    token: session.token,
    onSignInNeeded: (error) => {
      if (session.token() === null) return;
      setSignInReason(error);
      void session.signedOut();
    },
  });
  const route = createRoute();
  const [loaded] = createResource(async () => { await session.load(); return true; });
  // Who is signed in; refetched whenever the token changes. An error here means: sign in.
  const [me, { refetch: refetchMe }] = createResource(
    () => (loaded() ? session.token() ?? false : undefined),
    async (token) => (token ? client.auth.me.query() : null),
  );
  // (Without a token the resource does not run and keeps its last value: check the token too.)
  const signedIn = () => session.token() !== null && !me.error && me() != null;
  const needsConnection = () => session.isDesktop && loaded() && !session.profile() && location.protocol === 'file:';
  const signInError = () => (me.error && readableError(me.error).needsSignIn ? me.error : signInReason());

  async function signOut() {
    await client.auth.signOut.mutate().catch(() => undefined);
    await session.signedOut();
    setSignInReason(null);
  }

  return (
    <Switch fallback={<main class="loading">Loading…</main>}>
      <Match when={needsConnection()}>
        <Connections bridge={window.almanacDesktop!} />
      </Match>
      <Match when={loaded() && !me.loading && !signedIn()}>
        <SignIn client={client} session={session} reason={signInError() ?? (me.error && !readableError(me.error).needsSignIn ? me.error : null)} onSignedIn={() => { setSignInReason(null); void refetchMe(); }} />
      </Match>
      <Match when={signedIn() && me()}>
        {(who) => (
          <ConsoleCtx.Provider value={{ client, session, role: () => me()?.role ?? null }}>
            <div class="layout">
              <nav>
                <div class="brand">Almanac</div>
                <For each={SCREENS}>
                  {(s) => <a href={hrefFor(s)} classList={{ active: route().screen === s }} data-nav={s}>{TITLES[s]}</a>}
                </For>
                <div class="who">
                  <div data-testid="signed-in-as">{who().name}</div>
                  <div class="muted">{who().role}</div>
                  <button type="button" onClick={signOut}>Sign out</button>
                  <Show when={session.isDesktop}><button type="button" class="link" onClick={() => void window.almanacDesktop?.connect('')}>Connections</button></Show>
                </div>
              </nav>
              <div class="content" data-screen={route().screen}>
                <Switch>
                  <Match when={route().screen === 'overview'}><Overview /></Match>
                  <Match when={route().screen === 'tenants'}><Tenants /></Match>
                  <Match when={route().screen === 'tracking-ids'}><TrackingIds route={route()} /></Match>
                  <Match when={route().screen === 'replays'}><Replays /></Match>
                  <Match when={route().screen === 'scaling'}><Scaling /></Match>
                  <Match when={route().screen === 'audit'}><Audit /></Match>
                </Switch>
              </div>
            </div>
          </ConsoleCtx.Provider>
        )}
      </Match>
    </Switch>
  );
}
