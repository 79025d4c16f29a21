/**
 * A thin SolidJS wrapper around ApexCharts 5.0.0 (pinned: the last MIT release). The chart is
 * created once per mount and updated in place when the options change; the box has a fixed
 * height so loading and redrawing never move the layout.
 */
import ApexCharts from 'apexcharts';

export type ApexOptions = ApexCharts.ApexOptions;
import { createEffect, on, onCleanup, onMount } from 'solid-js';

export interface ChartProps {
  options: ApexOptions;
  height: number;
  label: string;
}

export function Chart(props: ChartProps) {
  let box!: HTMLDivElement;
  let chart: ApexCharts | undefined;
  const full = (o: ApexOptions): ApexOptions => ({
    ...o,
    // No toolbar: its export menu is stubbed out of the bundle (build/apex-lite.mjs).
    chart: { ...o.chart, height: props.height, toolbar: { show: false }, zoom: { enabled: false }, animations: { enabled: false }, fontFamily: 'inherit', background: 'transparent' },
  });
  onMount(() => {
    chart = new ApexCharts(box, full(props.options));
    void chart.render();
  });
  createEffect(on(() => props.options, (o) => void chart?.updateOptions(full(o), true, false), { defer: true }));
  onCleanup(() => chart?.destroy());
  return <div ref={box} class="chart" style={{ height: `${props.height}px` }} role="img" aria-label={props.label} />;
}
