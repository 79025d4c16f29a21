/**
 * Dashboard embedding over HTTP:
 *
 *   POST /api/admin/embed-tokens                       admin key; body IssueEmbedTokenInput -> 201 the token and snippets (control/embed.ts)
 *   POST /api/admin/tenants/:id/rotate-embed-secret    admin key; revokes every embed token of the tenant
 *   GET  /embed/dashboard?token=…                      the iframe page (CSP frame-ancestors from the token)
 *   GET  /embed/almanac-dashboard.js                   the <almanac-dashboard> web component
 *   GET  /embed/assets/:file                           the dashboard bundle and stylesheet
 *
 * The stats themselves come from the public stats API, which accepts embed tokens as bearers
 * (query/service.ts). Every request carrying an embed token, page or API, is rate-limited per
 * token with the collectors' token bucket (the storage's RateLimiter: Redis in the cluster).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { errorBody, reject } from '../../core/errors.ts';
import type { RateLimiter, Registry } from '../../core/ports/index.ts';
import { retryAfterSeconds } from '../../core/rate-limit.ts';
import { adminRoutes } from './admin-guard.ts';
import { issueEmbedToken, issueEmbedTokenInput, rotateEmbedSecret } from '../../control/embed.ts';
import { parseInput } from '../../control/validate.ts';
import { checkEmbedToken, embedTokenOf } from '../../query/embed/verify.ts';
import { EMBED_TOKEN_PREFIX, frameAncestors } from '../../query/embed/token.ts';
import { ensureUiBuilt, UI_DIST, uiBundleDir } from '../../ui/bundles.ts';

export interface EmbedRouteDeps {
  registry: Registry;
  rateLimiter: RateLimiter;
  /** The appliance's public URL (for the snippets the admin route returns). */
  publicUrl: string;
  /** Add the admin routes (this node runs the admin role). */
  admin: boolean;
  log?: (message: string) => void;
  now?: () => number;
  /** Per-token limit: requests per second and burst. Default 20/s, burst 60 (a dashboard load is ~15 requests). */
  ratePerSec?: number;
  burst?: number;
  /** Where the built UIs are (dist/ui); tests may point elsewhere. */
  uiDir?: string;
}

const ASSET_TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

export async function registerEmbedRoutes(app: FastifyInstance, deps: EmbedRouteDeps): Promise<void> {
  const now = deps.now ?? Date.now;
  const log = deps.log ?? (() => {});
  const uiDir = deps.uiDir ?? UI_DIST;
  const ratePerSec = deps.ratePerSec ?? 20;
  const burst = deps.burst ?? 60;
  const uiProblem = await buildUi(log, deps.uiDir !== undefined);

  // Rate limit per token, before anything else is done for the request.
  app.addHook('onRequest', async (req, reply) => {
    const token = embedTokenOf(req.headers.authorization) ?? (req.url.startsWith('/embed/dashboard') ? (req.query as { token?: string })?.token : undefined);
    if (!token || !token.startsWith(EMBED_TOKEN_PREFIX)) return;
    const key = `embed:${createHash('sha256').update(token).digest('base64url').slice(0, 22)}`;
    const decision = await deps.rateLimiter.take(key, 1, ratePerSec, burst);
    if (decision.allowed) return;
    const r = reject('rate_limited', `at most ${ratePerSec} requests per second per embed token`);
    reply.header('Retry-After', String(retryAfterSeconds(decision.retryAfterMs)));
    if (req.url.startsWith('/embed/dashboard')) return reply.code(429).type('text/html; charset=utf-8').header('Content-Security-Policy', ERROR_PAGE_CSP).send(errorPage(r));
    return reply.code(429).send(errorBody(r));
  });

  app.get('/embed/dashboard', async (req, reply) => {
    reply.header('Referrer-Policy', 'no-referrer').header('X-Content-Type-Options', 'nosniff').header('Cache-Control', 'no-store');
    const token = (req.query as { token?: unknown }).token;
    const claims = typeof token === 'string' && token ? await checkEmbedToken(deps.registry, token, now()) : reject('embed_token_malformed', 'the page needs ?token=<embed token>');
    if ('ok' in claims) {
      // The error page shows no data, so any parent may frame it: the merchant sees why instead of a blank frame.
      return reply.code(claims.status).type('text/html; charset=utf-8').header('Content-Security-Policy', ERROR_PAGE_CSP).send(errorPage(claims));
    }
    if (uiProblem) return reply.code(503).type('text/html; charset=utf-8').send(errorPage({ code: 'ui_not_built', message: uiProblem }));
    const site = await deps.registry.getTrackingId(claims.tid);
    return reply
      .type('text/html; charset=utf-8')
      .header('Content-Security-Policy', `${frameAncestors(claims.o)}; ${PAGE_CSP}`)
      .send(dashboardPage(site?.name ?? claims.tid));
  });

  app.get('/embed/assets/:file', async (req, reply) => {
    const file = (req.params as { file: string }).file;
    const type = ASSET_TYPES[path.extname(file)];
    const full = path.join(uiDir, 'dashboard', file);
    if (!type || file.includes('/') || file.includes('..') || !existsSync(full)) return reply.code(404).send(errorBody(reject('not_found')));
    return reply.type(type).header('Cache-Control', 'public, max-age=300').send(readFileSync(full));
  });

  app.get('/embed/almanac-dashboard.js', async (_req, reply) => {
    const full = path.join(uiDir, 'dashboard-embed', 'app.js');
    if (!existsSync(full)) return reply.code(503).type('text/plain').send(uiProblem ?? 'UI not built: run npm run build:ui');
    // Loaded by merchants' pages on other origins (also as a module script, which needs CORS).
    return reply.type(ASSET_TYPES['.js']).header('Access-Control-Allow-Origin', '*').header('Cache-Control', 'public, max-age=300').send(readFileSync(full));
  });

  if (!deps.admin) return;
  const admin = adminRoutes(deps.registry);
  app.post('/api/admin/embed-tokens', admin(async (req) => ({
    status: 201,
    body: await issueEmbedToken(deps, parseInput(issueEmbedTokenInput, req.body), now()),
  })));
  app.post('/api/admin/tenants/:id/rotate-embed-secret', admin(async (req) => ({ body: await rotateEmbedSecret(deps.registry, (req.params as { id: string }).id) })));
}

// The page loads only its own script and stylesheet and talks only to its own origin.
// ApexCharts sets inline styles on the SVG it draws, hence 'unsafe-inline' for styles only.
const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'";
const ERROR_PAGE_CSP = "frame-ancestors *; default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'";

function dashboardPage(siteName: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<title>${escapeHtml(siteName)} — analytics</title><link rel="stylesheet" href="/embed/assets/dashboard.css">
<script type="module" src="/embed/assets/app.js"></script></head>
<body data-site-name="${escapeHtml(siteName)}"><div id="app"></div></body></html>`;
}

function errorPage(r: { code: string; message: string; detail?: string }): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<title>Dashboard unavailable</title><link rel="stylesheet" href="/embed/assets/dashboard.css"></head>
<body><div id="app"><div class="error-state" data-testid="error-state" data-code="${escapeHtml(r.code)}" role="alert">
<h1>This dashboard cannot be shown</h1><p>${escapeHtml(r.message)}</p>${r.detail ? `<p>${escapeHtml(r.detail)}</p>` : ''}<p class="code">${escapeHtml(r.code)}</p>
</div></div></body></html>`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Rebuilds stale UI bundles (ui/bundles.ts); the problem to show if that fails. */
async function buildUi(log: (m: string) => void, skip: boolean): Promise<string | undefined> {
  if (skip) return undefined;
  try {
    await ensureUiBuilt({ log });
    return undefined;
  } catch (error) {
    log(`dashboard UI could not be built: ${(error as Error).message}`);
    return existsSync(path.join(uiBundleDir('dashboard'), 'app.js')) ? undefined : 'UI not built: run npm run build:ui';
  }
}
