/**
 * Tracking IDs of a tenant: create (name, allowed origins), the snippet with a copy button, the
 * server key and its rotation, pause/resume, revoke (confirmed), and today's counts per ID.
 */
import { createEffect, createResource, createSignal, For, on, Show } from 'solid-js';
import type { Outputs } from '../api.ts';
import { useConsole } from '../context.ts';
import type { Route } from '../route.ts';
import { createAction, createPolled } from '../components/primitives.ts';
import { ConfirmButton } from '../components/confirm.tsx';
import { CopyButton } from '../components/copy-button.tsx';
import { ErrorNote } from '../components/error-note.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { formatCount } from '../format.ts';
import { EmbedPanel } from './embed-panel.tsx';

type TrackingId = Outputs['trackingIds']['list'][number];

export function TrackingIds(props: { route: Route }) {
  const { client, role } = useConsole();
  const canChange = () => role() !== 'viewer';
  const [tenants] = createResource(() => client.tenants.list.query());
  const [chosen, setChosen] = createSignal(props.route.params.get('tenant') ?? '');
  const tenantId = () => chosen() || tenants()?.[0]?.id || '';
  const [ids, { refetch }] = createPolled(async () => (tenantId() ? client.trackingIds.list.query({ tenantId: tenantId() }) : []), 10_000);
  const [open, setOpen] = createSignal<string | null>(null);
  // Another tenant chosen, or the tenants loaded (the first one is the default): list its IDs now.
  createEffect(on(tenantId, () => void refetch(), { defer: true }));

  const [name, setName] = createSignal('');
  const [origins, setOrigins] = createSignal('');
  const [respectDnt, setRespectDnt] = createSignal(false);
  const create = createAction(async () => {
    const record = await client.trackingIds.create.mutate({
      tenantId: tenantId(), name: name(), respectDnt: respectDnt(),
      allowedOrigins: origins().split(/[\s,]+/).filter(Boolean),
    });
    setName(''); setOrigins('');
    await refetch();
    setOpen(record.id);
    return record;
  });

  return (
    <section>
      <h2>Tracking IDs</h2>
      <label class="inline">Tenant
        <select name="tenant" value={tenantId()} onChange={(e) => { setChosen(e.currentTarget.value); setOpen(null); }}>
          <For each={tenants()}>{(t) => <option value={t.id} selected={t.id === tenantId()}>{t.name}</option>}</For>
        </select>
      </label>
      <ErrorNote error={tenants.error ?? ids.error} />

      <Show when={canChange() && tenantId()}>
        <form class="card form-row" data-testid="create-tracking-id" onSubmit={(e) => { e.preventDefault(); void create.run(); }}>
          <h3>New tracking ID</h3>
          <label>Name<input name="name" value={name()} onInput={(e) => setName(e.currentTarget.value)} placeholder="Website" required /></label>
          <label>Allowed origins<input name="allowedOrigins" value={origins()} onInput={(e) => setOrigins(e.currentTarget.value)} placeholder="https://shop.example (or * for any)" required /></label>
          <label class="inline"><input type="checkbox" checked={respectDnt()} onChange={(e) => setRespectDnt(e.currentTarget.checked)} /> Respect Do-Not-Track</label>
          <button type="submit" class="primary" disabled={create.pending()}>Create tracking ID</button>
          <ErrorNote error={create.error()} />
        </form>
      </Show>

      <table>
        <thead><tr><th>Tracking ID</th><th>Name</th><th>Status</th><th>Allowed origins</th><th></th></tr></thead>
        <tbody>
          <For each={ids()} fallback={<tr><td colspan="5" class="muted">No tracking IDs for this tenant.</td></tr>}>
            {(t) => (
              <>
                <tr data-tracking-id={t.id} data-name={t.name}>
                  <td><code>{t.id}</code></td>
                  <td>{t.name}</td>
                  <td><StatusBadge status={t.status} /></td>
                  <td>{t.allowedOrigins.join(', ')}</td>
                  <td><button type="button" onClick={() => setOpen(open() === t.id ? null : t.id)}>{open() === t.id ? 'Close' : 'Details'}</button></td>
                </tr>
                <Show when={open() === t.id}>
                  <tr class="details"><td colspan="5"><Details record={t} canChange={canChange()} onChanged={refetch} /></td></tr>
                </Show>
              </>
            )}
          </For>
        </tbody>
      </table>
    </section>
  );
}

function Details(props: { record: TrackingId; canChange: boolean; onChanged: () => unknown }) {
  const { client } = useConsole();
  const [allowLocalhost, setAllowLocalhost] = createSignal(false);
  const [detail, { refetch }] = createResource(() => ({ id: props.record.id, allowLocalhost: allowLocalhost() }), (input) => client.trackingIds.get.query(input));
  const [counts] = createPolled(() => client.trackingIds.counts.query({ id: props.record.id, days: 1 }), 5_000);
  const act = createAction(async (call: () => Promise<unknown>) => { await call(); await refetch(); await props.onChanged(); });
  const id = () => props.record.id;
  const status = () => detail()?.status ?? props.record.status;

  return (
    <div class="tracking-details" data-details={id()}>
      <ErrorNote error={detail.error ?? act.error()} />
      <Show when={detail()}>
        {(d) => (
          <>
            <h4>Snippet</h4>
            <label class="inline"><input type="checkbox" checked={allowLocalhost()} onChange={(e) => setAllowLocalhost(e.currentTarget.checked)} /> Also track pages on localhost</label>
            <div class="snippet"><pre data-testid="snippet">{d().snippet}</pre><CopyButton text={d().snippet} label="Copy snippet" /></div>
            <h4>Server key</h4>
            <div class="snippet">
              <Show when={d().serverKey} fallback={<span class="muted">Hidden for viewers.</span>}>
                {(key) => <><pre data-testid="server-key">{key()}</pre><CopyButton text={key()} label="Copy key" /></>}
              </Show>
            </div>
          </>
        )}
      </Show>

      <h4>Today</h4>
      <ErrorNote error={counts.error} />
      <Show when={counts()}>
        {(c) => (
          <dl class="counts" data-testid="counts">
            <dt>Accepted</dt><dd data-count="accepted">{formatCount(c().accepted)}</dd>
            <dt>Rejected</dt><dd data-count="rejected">{formatCount(c().rejectedTotal)}{reasons(c().rejected)}</dd>
            <dt>Bots dropped</dt><dd data-count="bots">{formatCount(c().botDroppedTotal)}{reasons(c().botDropped)}</dd>
            <dt>Duplicates</dt><dd data-count="duplicate">{formatCount(c().duplicate)}</dd>
          </dl>
        )}
      </Show>

      <Show when={props.canChange && status() !== 'revoked'}>
        <div class="actions">
          <ConfirmButton label="Rotate server key" title="Rotate the server key?" confirmLabel="Rotate"
            message="Servers that send with the current key are refused from now on, until they use the new one."
            onConfirm={() => act.run(() => client.trackingIds.rotateServerKey.mutate({ id: id() }))} />
          <Show when={status() === 'active'} fallback={<button type="button" onClick={() => act.run(() => client.trackingIds.resume.mutate({ id: id() }))}>Resume</button>}>
            <button type="button" onClick={() => act.run(() => client.trackingIds.pause.mutate({ id: id() }))}>Pause</button>
          </Show>
          <ConfirmButton label="Revoke" title={`Revoke ${id()}?`} confirmLabel="Revoke for good" typeToConfirm={id()}
            message="Every event for this tracking ID is refused from now on, for good; its stats stay readable. Create a new tracking ID to track again."
            onConfirm={() => act.run(() => client.trackingIds.revoke.mutate({ id: id() }))} />
        </div>
        <EmbedPanel trackingId={id()} tenantId={props.record.tenantId} />
      </Show>
    </div>
  );
}

function reasons(byReason: Record<string, number>): string {
  const parts = Object.entries(byReason).map(([reason, n]) => `${reason} ${formatCount(n)}`);
  return parts.length ? ` (${parts.join(', ')})` : '';
}
