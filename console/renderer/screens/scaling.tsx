/**
 * Scaling: the appliance nodes with their worker processes (state, restarts, last crash), the
 * desired worker counts per node (the node's supervisor converges to them), and the event log's
 * partitions with the consumer lag of each group.
 */
import { createSignal, For, Show } from 'solid-js';
import type { Outputs } from '../api.ts';
import { useConsole } from '../context.ts';
import { createAction, createPolled } from '../components/primitives.ts';
import { ErrorNote } from '../components/error-note.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { formatCount, formatRate, formatTime } from '../format.ts';

type Node = Outputs['scaling']['nodes'][number];
const ROLES = ['collector', 'archiver', 'aggregator', 'query'] as const;

export function Scaling() {
  const { client, role } = useConsole();
  const [nodes, { refetch }] = createPolled(() => client.scaling.nodes.query({}), 2_000);
  const [log] = createPolled(() => client.scaling.log.query(), 5_000);

  return (
    <section>
      <h2>Scaling</h2>
      <h3>Nodes</h3>
      <ErrorNote error={nodes.error} />
      <For each={nodes()} fallback={<p class="muted">{nodes.loading ? 'Loading…' : 'No node has reported in the last 15 s.'}</p>}>
        {(node) => <NodeCard node={node} canChange={role() !== 'viewer'} onChanged={refetch} />}
      </For>

      <h3>Event log</h3>
      <ErrorNote error={log.error} />
      <Show when={log()}>
        {(l) => (
          <>
            <p>{l().partitions} partitions · {formatRate(l().eventsPerSecIn)} in</p>
            <For each={l().groups}>
              {(g) => (
                <div class="card" data-group={g.group}>
                  <h4>{g.group} — lag {formatCount(g.totalLag)}, {formatRate(g.eventsPerSecOut)} out</h4>
                  <table class="compact">
                    <thead><tr><th>Partition</th><th>End offset</th><th>Committed</th><th>Lag</th></tr></thead>
                    <tbody>
                      <For each={g.partitions}>{(p) => <tr><td>{p.partition}</td><td>{formatCount(p.end)}</td><td>{formatCount(p.committed)}</td><td>{formatCount(p.lag)}</td></tr>}</For>
                    </tbody>
                  </table>
                </div>
              )}
            </For>
          </>
        )}
      </Show>
    </section>
  );
}

function NodeCard(props: { node: Node; canChange: boolean; onChanged: () => unknown }) {
  const { client } = useConsole();
  const [desired, setDesired] = createSignal({ ...props.node.desired });
  const [dirty, setDirty] = createSignal(false);
  const shown = () => (dirty() ? desired() : props.node.desired);
  const apply = createAction(async () => {
    await client.scaling.setDesired.mutate({ nodeId: props.node.nodeId, counts: desired() });
    setDirty(false);
    await props.onChanged();
  });
  const running = (r: (typeof ROLES)[number]) => props.node.workers.filter((w) => w.role === r && w.state === 'running').length;

  return (
    <div class="card node" data-node={props.node.nodeId}>
      <h4>{props.node.nodeId} <span class="muted">{props.node.host} · pid {props.node.pid} · {props.node.url} · seen {formatTime(props.node.lastSeenAt)}</span></h4>
      <form class="form-row" onSubmit={(e) => { e.preventDefault(); void apply.run(); }}>
        <For each={ROLES}>
          {(r) => (
            <label>{r} <span class="muted">({running(r)} running)</span>
              <input name={`desired-${r}`} type="number" min="0" max="64" disabled={!props.canChange} value={shown()[r]}
                onInput={(e) => { setDesired({ ...shown(), [r]: Number(e.currentTarget.value) }); setDirty(true); }} />
            </label>
          )}
        </For>
        <Show when={props.canChange}><button type="submit" class="primary" disabled={!dirty() || apply.pending()}>Apply</button></Show>
        <ErrorNote error={apply.error()} />
      </form>
      <table class="compact workers">
        <thead><tr><th>Role</th><th>Slot</th><th>PID</th><th>State</th><th>Restarts</th><th>Started</th><th>Last exit</th></tr></thead>
        <tbody>
          <For each={props.node.workers} fallback={<tr><td colspan="7" class="muted">No worker processes (this node runs its roles in one process).</td></tr>}>
            {(w) => (
              <tr data-worker={`${w.role}-${w.slot}`} data-state={w.state}>
                <td>{w.role}</td><td>{w.slot}</td><td>{w.pid ?? '—'}</td><td><StatusBadge status={w.state} /></td>
                <td>{w.restarts}</td><td>{formatTime(w.startedAt)}</td>
                <td>{w.lastExit ? `${w.lastExit.signal ?? `code ${w.lastExit.code}`} at ${formatTime(w.lastExit.at)}` : '—'}</td>
              </tr>
            )}
          </For>
        </tbody>
      </table>
    </div>
  );
}
