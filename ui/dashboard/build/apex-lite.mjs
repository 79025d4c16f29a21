/**
 * esbuild plugins for the dashboard bundle (used by ui/build.mjs).
 *
 * ApexCharts 5.0.0's published bundles are ES5 and hold every chart type: ~149 KiB gzipped,
 * the whole 150 KiB budget. Built from its own sources (shipped in the package) for modern
 * browsers, with the chart types the dashboard never draws (pie, radar, radial, heatmap,
 * treemap, range bar, box/candlestick) and the SVG/PNG/CSV export module replaced by empty
 * classes, it is ~133 KiB. Core still constructs Exports, so the stub keeps a constructor; the
 * toolbar (the only caller of its methods) is switched off in ui/dashboard/chart.tsx.
 *
 * apexcharts stays pinned to 5.0.0: the last MIT release (see README, "Dashboards and embedding").
 */
import { createRequire } from 'node:module';
import path from 'node:path';

const STUBBED = /[\\/]apexcharts[\\/]src[\\/](charts[\\/](HeatMap|Pie|Radar|Radial|RangeBar|Treemap|BoxCandleStick)|modules[\\/]Exports)\.js$/;

export default function apexLite() {
  const require = createRequire(import.meta.url);
  const source = path.join(path.dirname(require.resolve('apexcharts/package.json')), 'src', 'apexcharts.js');
  return [{
    name: 'apexcharts-lite',
    setup(build) {
      build.onResolve({ filter: /^apexcharts$/ }, () => ({ path: source }));
      build.onLoad({ filter: STUBBED }, () => ({ contents: 'export default class Unused { constructor() {} }', loader: 'js' }));
      build.onLoad({ filter: /[\\/]apexcharts[\\/]src[\\/].*\.(svg|css)$/ }, async (args) => {
        const { readFile } = await import('node:fs/promises');
        return { contents: await readFile(args.path, 'utf8'), loader: 'text' };
      });
    },
  }];
}
