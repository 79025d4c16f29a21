/** The audit log: every mutation, newest first, filterable, in pages. */
import { createResource, createSignal, For, Show } from 'solid-js';
import { useConsole } from '../context.ts';
import { ErrorNote } from '../components/error-note.tsx';
import { changedFields, formatTime } from '../format.ts';

export function Audit() {
  const { client } = useConsole();
  const [actor, setActor] = createSignal('');
  const [action, setAction] = createSignal('');
  const [cursor, setCursor] = createSignal<string | undefined>(undefined);
  const [history, setHistory] = createSignal<(string | undefined)[]>([]);
  const [page, { refetch }] = createResource(
    () => ({ actor: actor() || undefined, action: action() || undefined, cursor: cursor(), limit: 50 }),
    (input) => client.audit.list.query(input),
  );
  const filter = (e: Event) => { e.preventDefault(); setHistory([]); setCursor(undefined); void refetch(); };

  return (
    <section>
      <h2>Audit log</h2>
      <form class="form-row" onSubmit={filter}>
        <label>Actor<input name="actor" placeholder="user:… or apikey:…" value={actor()} onChange={(e) => setActor(e.currentTarget.value)} /></label>
        <label>Action<input name="action" placeholder="tenants.create" value={action()} onChange={(e) => setAction(e.currentTarget.value)} /></label>
        <button type="submit">Filter</button>
      </form>
      <ErrorNote error={page.error} />
      <table class="audit">
        <thead><tr><th>When</th><th>Who</th><th>Action</th><th>Target</th><th>Change</th></tr></thead>
        <tbody>
          <For each={page()?.entries} fallback={<tr><td colspan="5" class="muted">{page.loading ? 'Loading…' : 'Nothing recorded.'}</td></tr>}>
            {(entry) => (
              <tr data-action={entry.action}>
                <td>{formatTime(entry.at)}</td>
                <td>{entry.actorName ?? entry.actor}</td>
                <td><code>{entry.action}</code></td>
                <td><code>{entry.target}</code></td>
                <td><Change before={entry.before} after={entry.after} /></td>
              </tr>
            )}
          </For>
        </tbody>
      </table>
      <div class="pager">
        <button type="button" disabled={history().length === 0} onClick={() => { const h = history(); setCursor(h[h.length - 1]); setHistory(h.slice(0, -1)); }}>Newer</button>
        <button type="button" disabled={!page()?.nextCursor} onClick={() => { setHistory([...history(), cursor()]); setCursor(page()!.nextCursor ?? undefined); }}>Older</button>
      </div>
    </section>
  );
}

/** Before/after as the fields that changed (whole values for creations and deletions). */
function Change(props: { before: unknown; after: unknown }) {
  const fields = () => changedFields(props.before, props.after);
  return (
    <Show when={fields().length > 0} fallback={<span class="muted">—</span>}>
      <details>
        <summary>{fields().length} field{fields().length === 1 ? '' : 's'}</summary>
        <ul class="changes">
          <For each={fields()}>{(f) => <li><code>{f.key}</code>: {f.before} → {f.after}</li>}</For>
        </ul>
      </details>
    </Show>
  );
}
