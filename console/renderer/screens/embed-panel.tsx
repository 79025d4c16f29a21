/**
 * Embed a tracking ID's dashboard in a merchant's portal: issue a signed token (lifetime,
 * allowed parent origins, optional page prefix) and copy the iframe or web-component snippet.
 * The token is shown once; rotating the tenant's embed secret revokes every token of the tenant.
 */
import { createSignal, Show } from 'solid-js';
import { useConsole } from '../context.ts';
import { createAction } from '../components/primitives.ts';
import { ConfirmButton } from '../components/confirm.tsx';
import { CopyButton } from '../components/copy-button.tsx';
import { ErrorNote } from '../components/error-note.tsx';

export function EmbedPanel(props: { trackingId: string; tenantId: string }) {
  const { client } = useConsole();
  const [days, setDays] = createSignal(30);
  const [origins, setOrigins] = createSignal('');
  const [pagePrefix, setPagePrefix] = createSignal('');
  const issue = createAction(() => client.embed.issueToken.mutate({
    trackingId: props.trackingId,
    expiresInDays: days(),
    allowedOrigins: origins().split(/[\s,]+/).filter(Boolean),
    ...(pagePrefix().trim() ? { pagePrefix: pagePrefix().trim() } : {}),
  }));
  const rotate = createAction(() => client.embed.rotateSecret.mutate({ tenantId: props.tenantId }));

  return (
    <div class="embed-panel" data-testid="embed-panel">
      <h4>Embed the dashboard</h4>
      <form class="inline-form" onSubmit={(e) => { e.preventDefault(); void issue.run(); }}>
        <label>Valid for (days) <input type="number" min="1" max="400" value={days()} onInput={(e) => setDays(Number(e.currentTarget.value) || 30)} /></label>
        <label>Portal origins <input name="embed-origins" placeholder="https://portal.example" value={origins()} onInput={(e) => setOrigins(e.currentTarget.value)} /></label>
        <label>Only pages under <input name="embed-prefix" placeholder="/shop (optional)" value={pagePrefix()} onInput={(e) => setPagePrefix(e.currentTarget.value)} /></label>
        <button type="submit" disabled={issue.pending()}>{issue.pending() ? 'Issuing…' : 'Issue embed token'}</button>
      </form>
      <ErrorNote error={issue.error() ?? rotate.error()} />
      <Show when={issue.result()}>
        {(r) => (
          <>
            <p class="muted">Expires {new Date(r().expiresAt).toLocaleString()}. Shown once: copy it now.</p>
            <div class="snippet"><pre data-testid="embed-iframe">{r().iframe}</pre><CopyButton text={r().iframe} label="Copy iframe" /></div>
            <div class="snippet"><pre data-testid="embed-component">{r().webComponent}</pre><CopyButton text={r().webComponent} label="Copy web component" /></div>
          </>
        )}
      </Show>
      <div class="actions">
        <ConfirmButton label="Revoke all embed tokens of this tenant" title="Rotate the tenant's embed secret?" confirmLabel="Rotate"
          message="Every dashboard embedded with a token of this tenant stops showing numbers at once, until it gets a new token."
          onConfirm={async () => { await rotate.run(); }} />
      </div>
    </div>
  );
}
