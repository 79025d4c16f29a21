/**
 * Sign in with an admin user's name and password (a session token comes back), or paste an
 * admin API key (automation, the desktop app's saved connections). Either token is checked with
 * auth.me before the console opens.
 */
import { createSignal, Show } from 'solid-js';
import type { AdminClient } from '../api.ts';
import type { Session } from '../session.ts';
import { ErrorNote } from '../components/error-note.tsx';
import { createAction } from '../components/primitives.ts';

export function SignIn(props: { client: AdminClient; session: Session; reason?: unknown; onSignedIn: () => void }) {
  const [mode, setMode] = createSignal<'password' | 'key'>('password');
  const [username, setUsername] = createSignal('');
  const [password, setPassword] = createSignal('');
  const [apiKey, setApiKey] = createSignal('');
  const [remember, setRemember] = createSignal(true);

  const signIn = createAction(async () => {
    if (mode() === 'password') {
      const { token } = await props.client.auth.signIn.mutate({ username: username(), password: password() });
      await props.session.signedIn(token, remember());
    } else {
      await props.session.signedIn(apiKey().trim(), remember());
      try {
        await props.client.auth.me.query();
      } catch (error) {
        await props.session.signedOut();
        throw error;
      }
    }
    props.onSignedIn();
  });

  return (
    <main class="sign-in">
      <form class="card" onSubmit={(e) => { e.preventDefault(); void signIn.run(); }}>
        <h1>Almanac console</h1>
        <Show when={props.session.profile()}>{(p) => <p class="muted">Connection: {p().name} — {p().url}</p>}</Show>
        <ErrorNote error={signIn.error() ?? props.reason} />
        <div class="tabs">
          <button type="button" classList={{ active: mode() === 'password' }} onClick={() => setMode('password')}>Username and password</button>
          <button type="button" classList={{ active: mode() === 'key' }} onClick={() => setMode('key')}>Admin API key</button>
        </div>
        <Show when={mode() === 'password'} fallback={
          <label>Admin API key<input name="apiKey" type="password" autocomplete="off" value={apiKey()} onInput={(e) => setApiKey(e.currentTarget.value)} required /></label>
        }>
          <label>Username<input name="username" autocomplete="username" value={username()} onInput={(e) => setUsername(e.currentTarget.value)} required /></label>
          <label>Password<input name="password" type="password" autocomplete="current-password" value={password()} onInput={(e) => setPassword(e.currentTarget.value)} required /></label>
        </Show>
        <Show when={props.session.isDesktop && props.session.profile()}>
          <label class="inline"><input type="checkbox" checked={remember()} onChange={(e) => setRemember(e.currentTarget.checked)} /> Remember on this computer (encrypted)</label>
        </Show>
        <button type="submit" class="primary" disabled={signIn.pending()}>{signIn.pending() ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </main>
  );
}
