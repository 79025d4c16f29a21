/**
 * Entry of the dashboard page served at /embed/dashboard?token=…[&theme=light|dark|auto][&brand=%23RRGGBB].
 * The server has already checked the token (an invalid one never reaches this script); the
 * token goes to the stats API as a bearer, never into a URL the page requests.
 */
import { render } from 'solid-js/web';
import { makeStatsClient, tokenClaims } from './api.ts';
import { Dashboard } from './app.tsx';
import { isHexColour } from './format.ts';

const params = new URLSearchParams(location.search);
const token = params.get('token') ?? '';
const claims = tokenClaims(token);
const theme = params.get('theme') ?? 'auto';
const dark = theme === 'dark' || (theme === 'auto' && matchMedia('(prefers-color-scheme: dark)').matches);
const brandParam = params.get('brand');
const brand = isHexColour(brandParam) ? brandParam : '#4f46e5';

document.documentElement.dataset.theme = dark ? 'dark' : 'light';
document.documentElement.style.setProperty('--brand', brand);
// Keep the token out of the address bar and history once read.
history.replaceState(null, '', location.pathname);

const root = document.getElementById('app')!;
render(() => <Dashboard client={makeStatsClient(token)} siteName={document.body.dataset.siteName ?? claims.tid ?? 'Dashboard'} pagePrefix={claims.f?.pagePrefix} brand={brand} dark={dark} />, root);

// Tell the <almanac-dashboard> element (or any parent) how tall the content is, so it can size the iframe.
new ResizeObserver(() => parent.postMessage({ almanac: 'dashboard-height', height: document.documentElement.scrollHeight }, '*')).observe(document.body);
