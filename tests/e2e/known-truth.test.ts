/**
 * End to end on a real appliance (embedded profile): 10,000 generated events with known truth go
 * in over HTTP as browsers would send them; the stats API must give back pageviews, events,
 * visits and bounces exactly, and unique visitors within 2 %.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateTraffic } from '../support/traffic.ts';
import { startTestAppliance, type TestAppliance } from '../support/appliance.ts';
import { assertStatsMatchTruth, sendAsBrowsers } from '../support/truth.ts';
import { HOUR_MS } from '../../core/time.ts';

let t: TestAppliance;
before(async () => {
  t = await startTestAppliance();
});
after(() => t?.close());

test('10,000 events with known truth come back exactly from the stats API', async () => {
  const { trackingId, adminApiKey } = t.credentials;
  const traffic = generateTraffic({ trackingId, events: 10_000, visitors: 1_500, start: Date.now() - 40 * HOUR_MS, spanMs: 30 * HOUR_MS, seed: 7 });
  assert.deepEqual(await sendAsBrowsers(t.url, traffic), { 202: 10_000 });
  await assertStatsMatchTruth(t.url, adminApiKey, trackingId, traffic);
});
