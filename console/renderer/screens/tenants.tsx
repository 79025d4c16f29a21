/** Tenants: create, usage, quotas, suspend/resume, delete (typed confirmation, then live progress). */
import { createSignal, For, onCleanup, Show } from 'solid-js';
import type { Outputs } from '../api.ts';
import { useConsole } from '../context.ts';
import { hrefFor } from '../route.ts';
import { createAction, createPolled } from '../components/primitives.ts';
import { ConfirmButton } from '../components/confirm.tsx';
import { ErrorNote } from '../components/error-note.tsx';
import { ProgressBar } from '../components/progress-bar.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { formatCount } from '../format.ts';

type Tenant = Outputs['tenants']['list'][number];
type DeletionJob = Outputs['tenants']['delete'];

/** "" → undefined (keep the default), else a positive whole number. */
function optionalInt(value: string): number | undefined {
  return value.trim() === '' ? undefined : Number(value);
}

export function Tenants() {
  const { client, role } = useConsole();
  const [tenants, { refetch }] = createPolled(() => client.tenants.list.query(), 10_000);
  const canChange = () => role() !== 'viewer';
  const [deletions, setDeletions] = createSignal<DeletionJob[]>([]);
  const subscriptions: { unsubscribe(): void }[] = [];
  onCleanup(() => subscriptions.forEach((s) => s.unsubscribe()));

  const [name, setName] = createSignal('');
  const [rate, setRate] = createSignal('');
  const [cap, setCap] = createSignal('');
  const [retention, setRetention] = createSignal('');
  const create = createAction(async () => {
    const t = await client.tenants.create.mutate({ name: name(), rateLimitPerSec: optionalInt(rate()), monthlyEventCap: optionalInt(cap()) ?? null, retentionDays: optionalInt(retention()) });
    setName(''); setRate(''); setCap(''); setRetention('');
    await refetch();
    return t;
  });

  const act = createAction(async (call: () => Promise<unknown>) => { await call(); await refetch(); });

  const remove = createAction(async (tenant: Tenant, typed: string) => {
    const job = await client.tenants.delete.mutate({ id: tenant.id, confirmName: typed });
    setDeletions((list) => [...list.filter((j) => j.tenantId !== tenant.id), job]);
    subscriptions.push(client.tenants.deletionProgress.subscribe({ jobId: job.id }, {
      onData: (update) => {
        setDeletions((list) => list.map((j) => (j.id === update.id ? update : j)));
        if (update.status !== 'running') void refetch();
      },
    }));
  });

  return (
    <section>
      <h2>Tenants</h2>
      <ErrorNote error={tenants.error ?? act.error() ?? remove.error()} />
      <For each={deletions()}>
        {(job) => (
          <div class="card deletion" data-job={job.id} data-status={job.status}>
            Deleting <strong>{job.tenantName}</strong>: {job.step} ({job.trackingIdsDone}/{job.trackingIdsTotal} tracking IDs, {formatCount(job.eventsDeleted)} events)
            <ProgressBar done={job.percent} total={100} label={`deleting ${job.tenantName}`} />
            <Show when={job.error}><div class="error-note">{job.error}</div></Show>
          </div>
        )}
      </For>

      <Show when={canChange()}>
        <form class="card form-row" data-testid="create-tenant" onSubmit={(e) => { e.preventDefault(); void create.run(); }}>
          <h3>New tenant</h3>
          <label>Name<input name="name" value={name()} onInput={(e) => setName(e.currentTarget.value)} required /></label>
          <label>Events/s limit<input name="rateLimitPerSec" type="number" min="1" placeholder="1000" value={rate()} onInput={(e) => setRate(e.currentTarget.value)} /></label>
          <label>Monthly cap<input name="monthlyEventCap" type="number" min="1" placeholder="none" value={cap()} onInput={(e) => setCap(e.currentTarget.value)} /></label>
          <label>Retention (days)<input name="retentionDays" type="number" min="1" placeholder="730" value={retention()} onInput={(e) => setRetention(e.currentTarget.value)} /></label>
          <button type="submit" class="primary" disabled={create.pending()}>Create tenant</button>
          <ErrorNote error={create.error()} />
        </form>
      </Show>

      <table>
        <thead><tr><th>Name</th><th>ID</th><th>Status</th><th>Events today</th><th>This month</th><th>Tracking IDs</th><th>Quotas</th><th></th></tr></thead>
        <tbody>
          <For each={tenants()} fallback={<tr><td colspan="8" class="muted">{tenants.loading ? 'Loading…' : 'No tenants.'}</td></tr>}>
            {(t) => (
              <tr data-tenant={t.name} data-tenant-id={t.id}>
                <td>{t.name}</td>
                <td><code>{t.id}</code></td>
                <td><StatusBadge status={t.status} /></td>
                <td>{formatCount(t.usage.eventsToday)}</td>
                <td>{formatCount(t.usage.eventsThisMonth)}</td>
                <td><a href={hrefFor('tracking-ids', { tenant: t.id })}>{t.trackingIdCount}</a></td>
                <td><Quotas tenant={t} canChange={canChange()} onSaved={refetch} /></td>
                <td class="actions">
                  <Show when={canChange()}>
                    <Show when={t.status === 'active'} fallback={<button type="button" onClick={() => act.run(() => client.tenants.resume.mutate({ id: t.id }))}>Resume</button>}>
                      <button type="button" onClick={() => act.run(() => client.tenants.suspend.mutate({ id: t.id }))}>Suspend</button>
                    </Show>
                    <ConfirmButton label="Delete" title={`Delete tenant ${t.name}?`} typeToConfirm={t.name} confirmLabel="Delete tenant and its data"
                      message={<>Its {t.trackingIdCount} tracking IDs stop taking events at once, then their raw events, rollups and keys are deleted. This cannot be undone.</>}
                      onConfirm={(typed) => remove.run(t, typed)} />
                  </Show>
                </td>
              </tr>
            )}
          </For>
        </tbody>
      </table>
    </section>
  );
}

function Quotas(props: { tenant: Tenant; canChange: boolean; onSaved: () => unknown }) {
  const { client } = useConsole();
  const [editing, setEditing] = createSignal(false);
  const [rate, setRate] = createSignal(String(props.tenant.rateLimitPerSec));
  const [cap, setCap] = createSignal(props.tenant.monthlyEventCap === null ? '' : String(props.tenant.monthlyEventCap));
  const [retention, setRetention] = createSignal(String(props.tenant.retentionDays));
  const save = createAction(async () => {
    await client.tenants.updateQuotas.mutate({ id: props.tenant.id, rateLimitPerSec: Number(rate()), monthlyEventCap: cap().trim() === '' ? null : Number(cap()), retentionDays: Number(retention()) });
    setEditing(false);
    await props.onSaved();
  });
  return (
    <Show when={editing()} fallback={
      <span>
        {formatCount(props.tenant.rateLimitPerSec)}/s · cap {props.tenant.monthlyEventCap === null ? 'none' : formatCount(props.tenant.monthlyEventCap)} · {props.tenant.retentionDays} d
        <Show when={props.canChange}> <button type="button" class="link" onClick={() => setEditing(true)}>Edit</button></Show>
      </span>
    }>
      <form class="quotas" onSubmit={(e) => { e.preventDefault(); void save.run(); }}>
        <input aria-label="events/s" type="number" min="1" value={rate()} onInput={(e) => setRate(e.currentTarget.value)} />
        <input aria-label="monthly cap" type="number" min="1" placeholder="none" value={cap()} onInput={(e) => setCap(e.currentTarget.value)} />
        <input aria-label="retention days" type="number" min="1" value={retention()} onInput={(e) => setRetention(e.currentTarget.value)} />
        <button type="submit" disabled={save.pending()}>Save</button>
        <button type="button" onClick={() => setEditing(false)}>Cancel</button>
        <ErrorNote error={save.error()} />
      </form>
    </Show>
  );
}
