/**
 * Drives the admin console in a browser for the console tests: open, sign in, go to a screen,
 * and collect what the page reported (errors, CSP violations). Screenshots go to artifacts/console/.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { ARTIFACTS_DIR } from './browser.ts';

export const CONSOLE_ARTIFACTS = path.join(ARTIFACTS_DIR, 'console');

export interface ConsoleProblems {
  pageErrors: string[];
  consoleErrors: string[];
}

export function watchConsolePage(page: Page): ConsoleProblems {
  const problems: ConsoleProblems = { pageErrors: [], consoleErrors: [] };
  page.on('pageerror', (e) => problems.pageErrors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') problems.consoleErrors.push(m.text()); });
  return problems;
}

export async function signIn(page: Page, url: string, username: string, password: string): Promise<void> {
  await page.goto(`${url}/console`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-testid=signed-in-as]');
}

export async function goTo(page: Page, screen: string): Promise<void> {
  await page.click(`nav a[data-nav="${screen}"]`);
  await page.waitForSelector(`.content[data-screen="${screen}"]`);
}

/** A full-page screenshot as artifacts/console/<name>.png. */
export async function consoleShot(page: Page, name: string): Promise<string> {
  mkdirSync(CONSOLE_ARTIFACTS, { recursive: true });
  const file = path.join(CONSOLE_ARTIFACTS, `${name.replace(/[^A-Za-z0-9._-]+/g, '-')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * A website on its own origin (127.0.0.1, another port) whose pages carry whatever snippet the
 * test pasted: the snippet copied from the console is what sends the events.
 */
export interface SnippetSite {
  origin: string;
  paste(snippet: string): void;
  close(): Promise<void>;
}

export async function serveSnippetSite(): Promise<SnippetSite> {
  const http = await import('node:http');
  let snippet = '';
  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    if (!pathname.startsWith('/page-')) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shop ${pathname}</title>${snippet}</head>
<body><h1>${pathname}</h1><button id="buy" onclick="almanac('event', 'Purchase', { props: { plan: 'pro' } })">Buy</button></body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as import('node:net').AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    paste: (s) => (snippet = s),
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** Waits until the tracker has loaded and drained its queue. */
export async function waitForTracker(page: Page): Promise<void> {
  await page.waitForFunction(() => typeof (window as any).almanac === 'function' && !('q' in (window as any).almanac), undefined, { timeout: 15_000 });
}

/**
 * Records every value the `data-percent` of the selected progress bar takes (a MutationObserver
 * in the page), so a test can show the bar moved rather than jumped to 100. Function forms only:
 * the console's CSP forbids evaluating strings. No named inner functions (tsx would wrap them in
 * a helper the page lacks).
 */
export async function recordPercents(page: Page, selector: string): Promise<() => Promise<number[]>> {
  const key = `__percents_${Math.random().toString(36).slice(2)}`;
  await page.evaluate(([k, sel]) => {
    const seen: number[] = ((window as any)[k] = []);
    const observer = new MutationObserver(() => {
      const v = Number(document.querySelector(sel)?.getAttribute('data-percent') ?? NaN);
      if (!Number.isNaN(v) && seen[seen.length - 1] !== v) seen.push(v);
    });
    observer.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-percent'] });
    const first = Number(document.querySelector(sel)?.getAttribute('data-percent') ?? NaN);
    if (!Number.isNaN(first)) seen.push(first);
  }, [key, selector] as const);
  return () => page.evaluate((k) => (window as any)[k] as number[], key);
}

/**
 * A free TCP port on 127.0.0.1. The console shows snippets with the appliance's public URL, so
 * its tests start the appliance on a known port (ALMANAC_PORT=0 would make the URL say ":0").
 */
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as import('node:net').AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
