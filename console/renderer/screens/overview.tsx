/** Overview: each service up or down with its latency, events/s in and out, lag, freshness and error rates per tracking ID. */
import { For, Show } from 'solid-js';
import { useConsole } from '../context.ts';
import { createPolled } from '../components/primitives.ts';
import { ErrorNote } from '../components/error-note.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { formatCount, formatDuration, formatRate } from '../format.ts';

/** Freshness above this is shown as stale (the pipeline promises seconds). */
const STALE_AFTER_MS = 60_000;

export function Overview() {
  const { client } = useConsole();
  const [services] = createPolled(() => client.health.services.query(), 5_000);
  const [log] = createPolled(() => client.scaling.log.query(), 5_000);
  const [freshness] = createPolled(() => client.health.freshness.query({}), 5_000);
  const [errors] = createPolled(() => client.health.errorRates.query({}), 10_000);
  const errorsFor = (trackingId: string) => errors()?.find((e) => e.trackingId === trackingId);

  return (
    <section>
      <h2>Overview</h2>
      <h3>Services</h3>
      <ErrorNote error={services.error} />
      <div class="cards" data-testid="services">
        <For each={services()}>
          {(s) => (
            <div class="card service" data-service={s.name} data-up={String(s.up)}>
              <strong>{s.name}</strong> <StatusBadge status={s.up ? 'up' : 'down'} />
              <div class="muted">{s.up ? `${s.latencyMs} ms` : s.error ?? 'no answer'}</div>
            </div>
          )}
        </For>
      </div>

      <h3>Event log</h3>
      <ErrorNote error={log.error} />
      <Show when={log()}>
        {(l) => (
          <div class="cards">
            <div class="card"><div class="figure" data-testid="events-in">{formatRate(l().eventsPerSecIn)}</div><div class="muted">events in</div></div>
            <For each={l().groups}>
              {(g) => (
                <div class="card" data-group={g.group}>
                  <div class="figure">{formatRate(g.eventsPerSecOut)}</div>
                  <div class="muted">{g.group} out · lag {formatCount(g.totalLag)}</div>
                </div>
              )}
            </For>
            <div class="card"><div class="figure">{l().partitions}</div><div class="muted">partitions</div></div>
          </div>
        )}
      </Show>

      <h3>Tracking IDs (today)</h3>
      <ErrorNote error={freshness.error ?? errors.error} />
      <table>
        <thead><tr><th>Tracking ID</th><th>Name</th><th>Freshness</th><th>Accepted</th><th>Rejected</th><th>Bots</th><th>Error rate</th></tr></thead>
        <tbody>
          <For each={freshness()} fallback={<tr><td colspan="7" class="muted">No tracking IDs yet.</td></tr>}>
            {(f) => (
              <tr data-tracking-id={f.trackingId}>
                <td><code>{f.trackingId}</code></td>
                <td>{f.name}</td>
                <td classList={{ stale: f.ageMs !== null && f.ageMs > STALE_AFTER_MS }}>{f.ageMs === null ? 'no events' : `${formatDuration(f.ageMs)} ago`}</td>
                <td>{formatCount(errorsFor(f.trackingId)?.accepted)}</td>
                <td>{formatCount(errorsFor(f.trackingId)?.rejected)}</td>
                <td>{formatCount(errorsFor(f.trackingId)?.botDropped)}</td>
                <td>{errorsFor(f.trackingId) ? `${((errorsFor(f.trackingId)!.errorRate) * 100).toFixed(1)} %` : '—'}</td>
              </tr>
            )}
          </For>
        </tbody>
      </table>
    </section>
  );
}
