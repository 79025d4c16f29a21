/**
 * The browser tracker, served as /tracker.js. Compiled by build.ts (esbuild, IIFE, minified);
 * it must stay under 2 KB gzipped, so it is written plainly and depends on nothing.
 *
 *   <script defer src="https://collector/tracker.js" data-tracking-id="..."
 *           data-api="https://collector" data-respect-dnt="true"></script>
 *
 * data-api defaults to the script's own origin; data-allow-localhost="true" tracks localhost.
 * API: window.almanac('event', name, { props, revenue }) and window.almanac('pageview').
 * Calls made before the script loads are queued by the stub
 *   window.almanac = window.almanac || function () { (window.almanac.q = window.almanac.q || []).push(arguments) }
 */
export {};

type Props = Record<string, string | number>;
interface Options {
  props?: Props;
  revenue?: { amount: number; currency: string };
}
type Almanac = ((cmd: string, name?: string, opts?: Options) => void) & { q?: ArrayLike<unknown>[] };

const w = window as unknown as Window & { almanac?: Almanac };
const d = document;
const nav = navigator;
const loc = location;
const script = d.currentScript as HTMLScriptElement | null;
const data = script ? script.dataset : {};
const trackingId = data.trackingId;
const endpoint = (data.api || (script && script.src ? new URL(script.src).origin : '')).replace(/\/+$/, '') + '/api/event';
const FILE = /\.(pdf|xlsx?|docx?|odt|ods|pptx?|txt|rtf|csv|zip|rar|7z|gz|tgz|dmg|pkg|exe|msi|iso|apk|mp3|wav|mp4|mov|avi|mkv|epub)$/i;

function uuid(): string {
  try {
    return crypto.randomUUID();
  } catch {
    // crypto.randomUUID is missing on plain http pages and old browsers
    return '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (c) => (+c ^ ((Math.random() * 16) >> (+c / 4))).toString(16));
  }
}

/** A data-* flag is on when present (even empty) and not "false". */
function flag(v: string | undefined): boolean {
  return v !== undefined && v !== 'false';
}

function ignored(): boolean {
  return (
    !trackingId ||
    (flag(data.respectDnt) && nav.doNotTrack === '1') ||
    (!flag(data.allowLocalhost) && /^(localhost|.+\.localhost|127(\.\d{1,3}){3}|\[::1\]|0\.0\.0\.0)$/.test(loc.hostname)) ||
    loc.protocol === 'file:' ||
    // automated browsers (tests, scrapers) are not visitors
    !!nav.webdriver
  );
}

function send(type: 'pageview' | 'event', name?: string, opts?: Options): void {
  if (ignored()) return;
  const body = JSON.stringify({
    eventId: uuid(),
    trackingId,
    type,
    name,
    url: loc.href.slice(0, 2048),
    referrer: d.referrer.slice(0, 2048) || undefined,
    title: d.title.slice(0, 512) || undefined,
    props: opts && opts.props,
    revenue: opts && opts.revenue,
  });
  // A string body makes sendBeacon send text/plain: a "simple" CORS request, no preflight.
  // sendBeacon survives page unload; it returns false when the browser refuses to queue.
  if (!(nav.sendBeacon && nav.sendBeacon(endpoint, body))) {
    fetch(endpoint, { method: 'POST', body, keepalive: true, headers: { 'Content-Type': 'text/plain' } }).catch(() => {});
  }
}

let lastPage = '';
function pageview(): void {
  // SPA routers often replaceState the same path (scroll, query tweaks); count a page once.
  const page = loc.pathname + loc.search;
  if (page === lastPage) return;
  lastPage = page;
  send('pageview');
}

const almanac: Almanac = (cmd, name, opts) => {
  if (cmd === 'event' && name) send('event', name, opts);
  else if (cmd === 'pageview') {
    lastPage = '';
    pageview();
  }
};

const queued = (w.almanac && w.almanac.q) || [];
w.almanac = almanac;

const history_ = history as History & Record<string, (...a: unknown[]) => unknown>;
for (const method of ['pushState', 'replaceState']) {
  const original = history_[method];
  history_[method] = function (this: History, ...args: unknown[]) {
    const result = original.apply(this, args);
    pageview();
    return result;
  };
}
w.addEventListener('popstate', pageview);

function onClick(e: MouseEvent): void {
  // auxclick: middle-click opens in a new tab, still a click on the link
  if (e.type === 'auxclick' && e.button !== 1) return;
  const a = (e.target as Element | null)?.closest?.('a');
  if (!a || !a.href) return;
  if (FILE.test(a.pathname)) send('event', 'File Download', { props: { url: a.href.slice(0, 256) } });
  else if (a.host && a.host !== loc.host && /^https?:$/.test(a.protocol)) send('event', 'Outbound Link: Click', { props: { url: a.href.slice(0, 256) } });
}
d.addEventListener('click', onClick, true);
d.addEventListener('auxclick', onClick, true);

pageview();
for (let i = 0; i < queued.length; i++) almanac.apply(null, Array.prototype.slice.call(queued[i]) as Parameters<Almanac>);
