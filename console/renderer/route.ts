/** Hash routing (#/tenants, #/tracking-ids?tenant=t_1): works from /console/ and from a file:// bundle. */
import { createSignal, onCleanup } from 'solid-js';

export const SCREENS = ['overview', 'tenants', 'tracking-ids', 'replays', 'scaling', 'audit'] as const;
export type Screen = (typeof SCREENS)[number];

export interface Route {
  screen: Screen;
  params: URLSearchParams;
}

export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?');
  const screen = (SCREENS as readonly string[]).includes(path) ? (path as Screen) : 'overview';
  return { screen, params: new URLSearchParams(query) };
}

export function hrefFor(screen: Screen, params: Record<string, string> = {}): string {
  const query = new URLSearchParams(params).toString();
  return `#/${screen}${query ? `?${query}` : ''}`;
}

export function createRoute() {
  const [route, setRoute] = createSignal(parseRoute(location.hash));
  const onChange = () => setRoute(parseRoute(location.hash));
  window.addEventListener('hashchange', onChange);
  onCleanup(() => window.removeEventListener('hashchange', onChange));
  return route;
}
