/**
 * Desktop app only: the saved connections (appliance URL + token kept encrypted by the main
 * process). Connecting loads <url>/console in the window; signing in there saves the token.
 */
import { createResource, createSignal, For, Show } from 'solid-js';
import type { DesktopBridge } from '../../shared/bridge.ts';
import { createAction } from '../components/primitives.ts';
import { ConfirmButton } from '../components/confirm.tsx';

export function Connections(props: { bridge: DesktopBridge }) {
  const [profiles, { refetch }] = createResource(() => props.bridge.listProfiles());
  const [name, setName] = createSignal('');
  const [url, setUrl] = createSignal('');
  const [token, setToken] = createSignal('');
  const save = createAction(async () => {
    const p = await props.bridge.saveProfile({ name: name(), url: url(), ...(token().trim() ? { token: token().trim() } : {}) });
    setName(''); setUrl(''); setToken('');
    await refetch();
    return p;
  });
  const remove = createAction(async (id: string) => { await props.bridge.deleteProfile(id); await refetch(); });

  return (
    <main class="sign-in">
      <div class="card">
        <h1>Connections</h1>
        <Show when={save.error() ?? remove.error()}>{(e) => <div class="error-note" role="alert">{(e() as Error).message}</div>}</Show>
        <ul class="profiles">
          <For each={profiles()} fallback={<li class="muted">No saved connection yet.</li>}>
            {(p) => (
              <li>
                <strong>{p.name}</strong> <span class="muted">{p.url}{p.hasToken ? ' · signed in' : ''}</span>
                <button type="button" class="primary" onClick={() => props.bridge.connect(p.id)}>Connect</button>
                <ConfirmButton label="Delete" title={`Delete the connection ${p.name}?`} message="Its saved token is deleted from this computer." onConfirm={() => void remove.run(p.id)} />
              </li>
            )}
          </For>
        </ul>
        <form onSubmit={(e) => { e.preventDefault(); void save.run(); }}>
          <h3>New connection</h3>
          <label>Name<input name="name" value={name()} onInput={(e) => setName(e.currentTarget.value)} placeholder="Production" required /></label>
          <label>Appliance URL<input name="url" value={url()} onInput={(e) => setUrl(e.currentTarget.value)} placeholder="https://almanac.example:8420" required /></label>
          <label>Admin API key (optional; or sign in after connecting)<input name="token" type="password" value={token()} onInput={(e) => setToken(e.currentTarget.value)} /></label>
          <button type="submit" disabled={save.pending()}>Save</button>
        </form>
      </div>
    </main>
  );
}
