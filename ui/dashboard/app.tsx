/**
 * The merchant dashboard: headline figures with change, a time series, breakdown tables, the
 * realtime counter and "data as of" — all read from the stats API with the embed token.
 */
import { createMemo, createResource, createSignal, For, onCleanup, Show, type JSX } from 'solid-js';
import { StatsError, type MetricName, type RangeParams, type StatsClient, type Value } from './api.ts';
import { Chart, type ApexOptions } from './chart.tsx';
import { changeDirection, formatAsOf, formatChange, formatValue } from './format.ts';

export interface DashboardProps {
  client: StatsClient;
  siteName: string;
  /** The token's fixed page filter: only page breakdowns and hour-or-coarser series exist then. */
  pagePrefix?: string;
  brand: string;
  dark: boolean;
}

const HEADLINE: { metric: MetricName; label: string }[] = [
  { metric: 'visitors', label: 'Unique visitors' }, { metric: 'visits', label: 'Visits' },
  { metric: 'pageviews', label: 'Pageviews' }, { metric: 'views_per_visit', label: 'Views per visit' },
  { metric: 'bounce_rate', label: 'Bounce rate' }, { metric: 'visit_duration', label: 'Visit duration' },
  { metric: 'revenue', label: 'Revenue' }, { metric: 'conversions', label: 'Conversions' },
];
const CHART_METRICS = HEADLINE.filter((h) => h.metric !== 'revenue');
/** With a fixed page filter the API has these per page only (visits belong to entry pages). */
const PAGE_METRICS: MetricName[] = ['visitors', 'pageviews'];
const PRESETS = [{ id: 'day', label: 'Today' }, { id: '7d', label: '7 days' }, { id: '30d', label: '30 days' }, { id: 'month', label: 'Month' }, { id: 'custom', label: 'Custom' }];
const INTERVALS = ['minute', 'hour', 'day', 'month'];
const BREAKDOWNS = [
  { property: 'page', label: 'Pages' }, { property: 'entry_page', label: 'Entry pages' }, { property: 'exit_page', label: 'Exit pages' },
  { property: 'source', label: 'Sources' }, { property: 'utm_campaign', label: 'UTM campaigns' }, { property: 'country', label: 'Countries' },
  { property: 'device', label: 'Devices' }, { property: 'browser', label: 'Browsers' }, { property: 'os', label: 'OS' }, { property: 'event', label: 'Custom events' },
];
const PAGE_PROPERTIES = ['page', 'entry_page', 'exit_page'];
const BREAKDOWN_METRICS: MetricName[] = ['visitors', 'visits', 'pageviews', 'bounce_rate', 'events'];
const ZONES = ['UTC', 'Europe/London', 'Europe/Berlin', 'America/New_York', 'America/Los_Angeles', 'Asia/Tokyo', 'Australia/Sydney'];

export function Dashboard(props: DashboardProps) {
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const [preset, setPreset] = createSignal('7d');
  const [from, setFrom] = createSignal(isoDay(Date.now() - 13 * 86_400_000));
  const [to, setTo] = createSignal(isoDay(Date.now()));
  const [timezone, setTimezone] = createSignal(browserZone);
  const [interval, setInterval_] = createSignal<string | undefined>();
  const [metric, setMetric] = createSignal<MetricName>('visitors');
  const [property, setProperty] = createSignal(props.pagePrefix ? 'page' : 'source');
  const [sort, setSort] = createSignal<{ key: string; desc: boolean }>({ key: 'visitors', desc: true });
  const [now, setNow] = createSignal(Date.now());

  const range = createMemo<RangeParams>(() => preset() === 'custom'
    ? { period: 'custom', date: `${from()},${to()}`, timezone: timezone() }
    : { period: preset(), timezone: timezone() });
  const chosenInterval = createMemo(() => interval() ?? (preset() === 'day' ? 'hour' : preset() === 'custom' && spanDays(from(), to()) > 90 ? 'month' : 'day'));

  const headline = props.pagePrefix ? HEADLINE.filter((h) => PAGE_METRICS.includes(h.metric)) : HEADLINE;
  const chartMetrics = props.pagePrefix ? CHART_METRICS.filter((h) => PAGE_METRICS.includes(h.metric)) : CHART_METRICS;
  const [aggregate] = createResource(range, (r) => props.client.aggregate(r, headline.map((h) => h.metric)));
  const [series] = createResource(() => ({ r: range(), i: chosenInterval(), m: metric() }), ({ r, i, m }) => props.client.timeseries(r, [m], i));
  const [breakdown] = createResource(() => ({ r: range(), p: property() }), ({ r, p }) => props.client.breakdown(r, p, p === 'event' ? ['visitors', 'events'] : BREAKDOWN_METRICS, 50));
  const [realtime, { refetch: refreshRealtime }] = createResource(() => (props.pagePrefix ? undefined : true), () => props.client.realtimeVisitors());
  // Live: the realtime counter every 10 s, the freshness line every 30 s.
  const timers = [setInterval(() => void refreshRealtime(), 10_000), setInterval(() => setNow(Date.now()), 30_000)];
  onCleanup(() => timers.forEach(clearInterval));

  const fatal = createMemo(() => [aggregate, series, breakdown].map((r) => r.error).find((e) => e instanceof StatsError && (e.status === 401 || e.status === 403)) as StatsError | undefined);

  const rows = createMemo(() => {
    const data = breakdown.latest?.results ?? [];
    const { key, desc } = sort();
    return [...data].sort((a, b) => compare(a[key], b[key]) * (desc ? -1 : 1));
  });
  const seriesOptions = createMemo<ApexOptions>(() => {
    const points = series.latest?.results ?? [];
    return {
      chart: { type: 'area', id: 'series' },
      series: [{ name: label(metric()), data: points.map((p) => (typeof p[metric()] === 'number' ? (p[metric()] as number) : 0)) }],
      xaxis: { categories: points.map((p) => shortDate(p.date, chosenInterval())), tickAmount: 8, labels: { rotate: 0, hideOverlappingLabels: true } },
      colors: [props.brand], dataLabels: { enabled: false }, stroke: { width: 2, curve: 'straight' },
      fill: { type: 'gradient', gradient: { opacityFrom: 0.35, opacityTo: 0.02 } },
      theme: { mode: props.dark ? 'dark' : 'light' }, grid: { borderColor: 'var(--line)' },
      yaxis: { labels: { formatter: (v: number) => formatValue(metric(), Math.round(v * 100) / 100) } },
    };
  });
  const barOptions = createMemo<ApexOptions>(() => {
    const top = rows().slice(0, 8);
    const key = sort().key === property() ? 'visitors' : sort().key;
    return {
      chart: { type: 'bar', id: 'breakdown' },
      series: [{ name: label(key), data: top.map((r) => (typeof r[key] === 'number' ? (r[key] as number) : 0)) }],
      xaxis: { categories: top.map((r) => String(r[property()])) },
      plotOptions: { bar: { horizontal: true, barHeight: '70%' } },
      colors: [props.brand], dataLabels: { enabled: false }, theme: { mode: props.dark ? 'dark' : 'light' }, grid: { borderColor: 'var(--line)' },
    };
  });

  return (
    <Show when={!fatal()} fallback={<ErrorPanel error={fatal()!} />}>
      <header class="bar">
        <div class="title">
          <h1>{props.siteName}</h1>
          <p class="asof" data-testid="data-as-of">{aggregate.latest ? formatAsOf(aggregate.latest.meta.dataAsOf, timezone(), now()) : 'Loading…'}</p>
          <Show when={props.pagePrefix}><p class="filter" data-testid="fixed-filter">Pages under <code>{props.pagePrefix}</code></p></Show>
        </div>
        <Show when={!props.pagePrefix}>
          <div class="realtime" data-testid="realtime" data-value={realtime.latest ?? ''} title="Visitors in the last 5 minutes">
            <span class="dot" /> <strong>{realtime.latest ?? '…'}</strong> current visitors
          </div>
        </Show>
        <div class="controls">
          <div class="presets" role="group" aria-label="Date range">
            <For each={PRESETS}>{(p) => <button type="button" classList={{ on: preset() === p.id }} data-preset={p.id} onClick={() => { setPreset(p.id); setInterval_(undefined); }}>{p.label}</button>}</For>
          </div>
          <Show when={preset() === 'custom'}>
            <label>From <input type="date" value={from()} max={to()} onChange={(e) => setFrom(e.currentTarget.value)} /></label>
            <label>To <input type="date" value={to()} min={from()} onChange={(e) => setTo(e.currentTarget.value)} /></label>
          </Show>
          <label>Time zone <select value={timezone()} onChange={(e) => setTimezone(e.currentTarget.value)} data-testid="timezone">
            <For each={[...new Set([browserZone, ...ZONES])]}>{(z) => <option value={z}>{z}</option>}</For>
          </select></label>
        </div>
      </header>

      <section class="cards" aria-label="Headline figures">
        <For each={headline}>{(h) => {
          const r = () => aggregate.latest?.results[h.metric];
          return (
            <div class="card" data-metric={h.metric} data-value={r() ? JSON.stringify(r()!.value) : ''}>
              <span class="label">{h.label}</span>
              <span class="value" classList={{ loading: aggregate.loading && !aggregate.latest }}>{r() ? formatValue(h.metric, r()!.value) : '\u00a0'}</span>
              <span class={`change ${changeDirection(r()?.change)}`} data-change={r() ? JSON.stringify(r()!.change ?? null) : ''}>{r() ? formatChange(r()!.change) || 'no previous data' : '\u00a0'}</span>
            </div>
          );
        }}</For>
      </section>

      <section class="panel">
        <div class="panel-head">
          <select aria-label="Metric" value={metric()} onChange={(e) => setMetric(e.currentTarget.value as MetricName)} data-testid="metric">
            <For each={chartMetrics}>{(m) => <option value={m.metric}>{m.label}</option>}</For>
          </select>
          <div class="intervals" role="group" aria-label="Interval">
            <For each={INTERVALS}>{(i) => (
              <button type="button" classList={{ on: chosenInterval() === i }} data-interval={i} disabled={!intervalAllowed(i, preset(), props.pagePrefix)} onClick={() => setInterval_(i)}>{i}</button>
            )}</For>
          </div>
        </div>
        <div class="chart-box" data-testid="series" data-interval={chosenInterval()} data-points={JSON.stringify((series.latest?.results ?? []).map((p) => [p.date, p[metric()] ?? null]))}>
          <Chart options={seriesOptions()} height={260} label={`${label(metric())} by ${chosenInterval()}`} />
          <Show when={series.loading && !series.latest}><div class="overlay">Loading…</div></Show>
          <Show when={series.latest && series.latest.results.every((p) => !p[metric()])}><div class="overlay" data-testid="series-empty">No data in this period</div></Show>
        </div>
      </section>

      <section class="panel breakdown">
        <div class="tabs" role="tablist">
          <For each={BREAKDOWNS.filter((b) => !props.pagePrefix || PAGE_PROPERTIES.includes(b.property))}>{(b) => (
            <button type="button" role="tab" aria-selected={property() === b.property} classList={{ on: property() === b.property }} data-property={b.property}
              onClick={() => { setProperty(b.property); setSort({ key: 'visitors', desc: true }); }}>{b.label}</button>
          )}</For>
        </div>
        <div class="breakdown-body">
          <div class="table-box">
            <table data-testid="breakdown" data-property={property()}>
              <thead><tr>
                <For each={[property(), ...(property() === 'event' ? ['visitors', 'events'] : BREAKDOWN_METRICS)]}>{(col) => (
                  <th scope="col" classList={{ num: col !== property() }} aria-sort={sort().key === col ? (sort().desc ? 'descending' : 'ascending') : 'none'}>
                    <button type="button" data-sort={col} onClick={() => setSort((s) => ({ key: col, desc: s.key === col ? !s.desc : col !== property() }))}>
                      {col === property() ? BREAKDOWNS.find((b) => b.property === col)?.label : label(col)}{sort().key === col ? (sort().desc ? ' ↓' : ' ↑') : ''}
                    </button>
                  </th>
                )}</For>
              </tr></thead>
              <tbody>
                <For each={rows()}>{(row) => (
                  <tr>
                    <For each={[property(), ...(property() === 'event' ? ['visitors', 'events'] : BREAKDOWN_METRICS)]}>{(col) => (
                      <td classList={{ num: col !== property() }} data-col={col} data-value={JSON.stringify(row[col] ?? null)}>{col === property() ? String(row[col]) : formatValue(col, row[col] as Value)}</td>
                    )}</For>
                  </tr>
                )}</For>
              </tbody>
            </table>
            <Show when={breakdown.latest && rows().length === 0}><p class="empty" data-testid="breakdown-empty">No data in this period</p></Show>
            <Show when={breakdown.loading && !breakdown.latest}><p class="empty">Loading…</p></Show>
          </div>
          <div class="bar-box"><Chart options={barOptions()} height={280} label="Top values" /></div>
        </div>
      </section>
    </Show>
  );
}

export function ErrorPanel(props: { error: StatsError | { code: string; message: string } }): JSX.Element {
  return (
    <div class="error-state" data-testid="error-state" data-code={props.error.code} role="alert">
      <h1>This dashboard cannot be shown</h1>
      <p>{props.error.message}</p>
      <p class="code">{props.error.code}</p>
    </div>
  );
}

function intervalAllowed(interval: string, preset: string, pagePrefix: string | undefined): boolean {
  if (interval === 'minute') return preset === 'day' && !pagePrefix;
  if (interval === 'month') return preset !== 'day' && preset !== '7d';
  return true;
}

function label(metric: string): string {
  return HEADLINE.find((h) => h.metric === metric)?.label ?? (metric === 'events' ? 'Events' : metric);
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a ?? '').localeCompare(String(b ?? ''));
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function spanDays(a: string, b: string): number {
  return (Date.parse(b) - Date.parse(a)) / 86_400_000 + 1;
}

/** Axis labels from the API's local ISO times (2026-11-27T14:00:00+01:00). */
function shortDate(iso: string, interval: string): string {
  if (interval === 'minute' || interval === 'hour') return iso.slice(11, 16);
  if (interval === 'month') return iso.slice(0, 7);
  return iso.slice(5, 10);
}
