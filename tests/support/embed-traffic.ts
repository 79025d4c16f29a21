/** Traffic for the dashboard tests: a few visitors over a few pages, sent server-side. */
import { randomUUID } from 'node:crypto';
import { getJson, waitFor, type TestAppliance } from './appliance.ts';

export const PAGES = ['/', '/pricing', '/blog/hello', '/blog/launch', '/blog/launch', '/docs/start'];

/** Sends `visitors` visitors, each viewing every page of PAGES, and waits until the stats show them all. */
export async function sendDashboardTraffic(t: TestAppliance, visitors = 6): Promise<number> {
  const { trackingId, serverKey, adminApiKey } = t.credentials;
  const now = Date.now();
  let pageviews = 0;
  for (let v = 0; v < visitors; v++) {
    const events = PAGES.slice(0, 2 + (v % (PAGES.length - 1))).map((page, i) => ({
      eventId: randomUUID(), trackingId, type: 'pageview', ts: now - (visitors - v) * 20_000 + i * 1000,
      url: `https://shop.example${page}${v % 2 ? '?utm_source=newsletter&utm_campaign=autumn' : ''}`,
      referrer: v % 3 === 0 ? 'https://www.google.com/' : undefined,
    }));
    pageviews += events.length;
    const res = await fetch(`${t.url}/api/batch`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json', 'x-almanac-key': serverKey, 'x-almanac-client-ip': `203.0.113.${10 + v}`,
        'x-almanac-user-agent': v % 2 ? 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1'
          : 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36',
      },
      body: JSON.stringify(events),
    });
    if (res.status !== 202) throw new Error(`batch refused: ${res.status} ${await res.text()}`);
  }
  const seen = await waitFor(async () => {
    const r = await getJson(`${t.url}/api/v1/stats/aggregate?site_id=${trackingId}&period=day&metrics=pageviews`, adminApiKey);
    return r.body?.results?.pageviews?.value === pageviews;
  }, 20_000);
  if (!seen) throw new Error(`the stats did not reach ${pageviews} pageviews in 20 s`);
  return pageviews;
}

export async function issueToken(t: TestAppliance, body: Record<string, unknown>): Promise<{ status: number; body: any }> {
  const res = await fetch(`${t.url}/api/admin/embed-tokens`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${t.credentials.adminApiKey}` }, body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** The token with one character in the middle of its signature changed. */
export function tamper(token: string): string {
  const i = token.length - 20;
  return token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
}
