/**
 * Replays: start one (a tenant's tracking IDs or a list, a range of UTC days, dry run, source),
 * the list, live progress bars (the replays.progress subscription over SSE) and cancel.
 */
import { createResource, createSignal, For, onCleanup, Show } from 'solid-js';
import type { Outputs } from '../api.ts';
import { useConsole } from '../context.ts';
import { createAction, createPolled } from '../components/primitives.ts';
import { ConfirmButton } from '../components/confirm.tsx';
import { ErrorNote } from '../components/error-note.tsx';
import { ProgressBar } from '../components/progress-bar.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { formatCount, formatDuration, formatRate, utcDay } from '../format.ts';

type Replay = Outputs['replays']['list'][number];
const FINISHED = ['done', 'failed', 'cancelled'];

export function Replays() {
  const { client, role } = useConsole();
  const canChange = () => role() !== 'viewer';
  const [tenants] = createResource(() => client.tenants.list.query());
  const [replays, { refetch }] = createPolled(() => client.replays.list.query({ limit: 50 }), 5_000);

  const [tenantId, setTenantId] = createSignal('');
  const [trackingIds, setTrackingIds] = createSignal('');
  const [from, setFrom] = createSignal(utcDay(Date.now(), -1));
  const [to, setTo] = createSignal(utcDay(Date.now()));
  const [dryRun, setDryRun] = createSignal(true);
  const [source, setSource] = createSignal<'auto' | 'log' | 'archive'>('auto');
  const start = createAction(async () => {
    const ids = trackingIds().split(/[\s,]+/).filter(Boolean);
    const job = await client.replays.start.mutate({
      ...(ids.length ? { trackingIds: ids } : { tenantId: tenantId() || tenants()?.[0]?.id }),
      from: from(), to: to(), dryRun: dryRun(), source: source(),
    });
    await refetch();
    return job;
  });

  return (
    <section>
      <h2>Replays</h2>
      <p class="muted">A replay recomputes the rollups of a range of days from the raw events with the current logic. A dry run only compares and reports the days that would change.</p>
      <Show when={canChange()}>
        <form class="card form-row" data-testid="start-replay" onSubmit={(e) => { e.preventDefault(); void start.run(); }}>
          <h3>Start a replay</h3>
          <label>Tenant
            <select name="tenantId" value={tenantId()} onChange={(e) => setTenantId(e.currentTarget.value)}>
              <For each={tenants()}>{(t) => <option value={t.id} selected={t.id === tenantId()}>{t.name}</option>}</For>
            </select>
          </label>
          <label>or tracking IDs<input name="trackingIds" placeholder="AL-… (blank: all of the tenant's)" value={trackingIds()} onInput={(e) => setTrackingIds(e.currentTarget.value)} /></label>
          <label>From (UTC day)<input name="from" type="date" value={from()} onInput={(e) => setFrom(e.currentTarget.value)} required /></label>
          <label>To (inclusive)<input name="to" type="date" value={to()} onInput={(e) => setTo(e.currentTarget.value)} required /></label>
          <label>Source
            <select name="source" value={source()} onChange={(e) => setSource(e.currentTarget.value as 'auto' | 'log' | 'archive')}>
              <option value="auto">auto</option><option value="log">event log</option><option value="archive">archive</option>
            </select>
          </label>
          <label class="inline"><input name="dryRun" type="checkbox" checked={dryRun()} onChange={(e) => setDryRun(e.currentTarget.checked)} /> Dry run (compare only)</label>
          <button type="submit" class="primary" disabled={start.pending()}>{dryRun() ? 'Start dry run' : 'Start replay'}</button>
          <ErrorNote error={start.error()} />
        </form>
      </Show>

      <ErrorNote error={replays.error} />
      <table>
        <thead><tr><th>Replay</th><th>Sites</th><th>Days</th><th>Kind</th><th>Status</th><th>Progress</th><th></th></tr></thead>
        <tbody>
          <For each={newestFirst(replays() ?? [])} fallback={<tr><td colspan="7" class="muted">No replays yet.</td></tr>}>
            {(job) => <ReplayRow job={job} canChange={canChange()} onChanged={refetch} />}
          </For>
        </tbody>
      </table>
    </section>
  );
}

function ReplayRow(props: { job: Replay; canChange: boolean; onChanged: () => unknown }) {
  const { client } = useConsole();
  const [live, setLive] = createSignal<Replay | null>(null);
  const job = () => live() ?? props.job;
  // Unfinished jobs are followed live over SSE; the list's polling covers the rest.
  if (!FINISHED.includes(props.job.status)) {
    const sub = client.replays.progress.subscribe({ id: props.job.id }, {
      onData: (update) => {
        setLive(update);
        if (FINISHED.includes(update.status)) void props.onChanged();
      },
    });
    onCleanup(() => sub.unsubscribe());
  }
  const cancel = createAction(() => client.replays.cancel.mutate({ id: props.job.id }));
  return (
    <tr data-replay={job().id} data-status={job().status}>
      <td><code>{job().id}</code></td>
      <td>{job().trackingIds.join(', ')}</td>
      <td>{job().from} → {job().to} ({job().days} d)</td>
      <td>{job().dryRun ? 'dry run' : 'replay'} · {job().source}</td>
      <td><StatusBadge status={job().status} />
        <Show when={job().error}><div class="error-note">{job().error}</div></Show>
        <Show when={job().dryRun && job().dryRunReport}>{(r) => <div class="muted" data-testid="dry-run-report">{r().days.length} of {r().daysCompared} site-days would change</div>}</Show>
      </td>
      <td class="progress-cell">
        <ProgressBar done={job().progress.daysDone} total={job().progress.daysTotal} label={`replay ${job().id}`} />
        <div class="muted">{formatCount(job().progress.eventsDone)} / {formatCount(job().progress.eventsTotal)} events · {formatRate(job().progress.eventsPerSec)}
          <Show when={!FINISHED.includes(job().status)}> · ETA {formatDuration(job().progress.etaMs)}</Show>
        </div>
      </td>
      <td>
        <Show when={props.canChange && !FINISHED.includes(job().status) && !job().cancelRequested}>
          <ConfirmButton label="Cancel" title="Cancel this replay?" confirmLabel="Cancel replay"
            message="The job stops before its next day; the days already replayed stay replaced."
            onConfirm={() => void cancel.run()} />
        </Show>
        <Show when={job().cancelRequested && !FINISHED.includes(job().status)}><span class="muted">cancelling…</span></Show>
        <ErrorNote error={cancel.error()} />
      </td>
    </tr>
  );
}

/** Newest first, whatever order the API lists them in. */
function newestFirst(jobs: readonly Replay[]): Replay[] {
  return [...jobs].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
}
