/**
 * The dashboard's JavaScript budget: under 150 KiB gzipped with ApexCharts included, measured on
 * a fresh build (ui/build.mjs writes dist/ui/dashboard/build.json).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('dashboard bundle (ApexCharts included) is within 150 KiB gzipped; the embed script within 10 KiB', { timeout: 120_000 }, async () => {
  const { UIS, buildUi } = (await import(new URL('../build.mjs', import.meta.url).href)) as {
    UIS: { name: string; out: string }[];
    buildUi(ui: unknown): Promise<unknown>;
  };
  for (const name of ['dashboard', 'dashboard-embed']) await buildUi(UIS.find((u) => u.name === name));

  const report = JSON.parse(readFileSync(path.join(root, 'dist/ui/dashboard/build.json'), 'utf8')) as { gzipKb: number; budgetKb: number; withinBudget: boolean };
  const js = readFileSync(path.join(root, 'dist/ui/dashboard/app.js'));
  assert.equal(report.budgetKb, 150);
  assert.ok(report.withinBudget && report.gzipKb <= 150, `dashboard: ${report.gzipKb} KiB gzipped`);
  assert.ok(Math.abs(gzipSync(js, { level: 9 }).length / 1024 - report.gzipKb) < 0.1, 'build.json measures the bundle on disk');
  // ApexCharts is in this bundle (not loaded from elsewhere), so the budget covers it.
  assert.ok(js.includes('apexcharts-canvas'), 'the bundle contains ApexCharts');

  const embed = JSON.parse(readFileSync(path.join(root, 'dist/ui/dashboard-embed/build.json'), 'utf8')) as { gzipKb: number; withinBudget: boolean };
  assert.ok(embed.withinBudget, `embed script: ${embed.gzipKb} KiB gzipped`);
});
