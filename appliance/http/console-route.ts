/**
 * Serves the admin console's renderer (console/renderer, built into dist/ui/console) at
 * /console/ on the node that runs the admin role. The bundle is rebuilt at registration when its
 * sources are newer (ui/bundles.ts ensureUiBuilt); if there is still no bundle, /console
 * answers 503 with what to run. A strict Content-Security-Policy: the page may load only its own
 * script and stylesheet and talk only to its own origin (the tRPC admin API).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ensureUiBuilt, uiBundleDir } from '../../ui/bundles.ts';

export const CONSOLE_DIST = uiBundleDir('console');

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
};

export interface ConsoleRouteOptions {
  /** Folder of the built renderer; default dist/ui/console. */
  distDir?: string;
  /** Rebuilds stale UI bundles; default ui/bundles.ts ensureUiBuilt. Tests pass a stub. */
  ensureBuilt?: () => Promise<unknown>;
  log?: (message: string) => void;
}

export async function registerConsole(app: FastifyInstance, options: ConsoleRouteOptions = {}): Promise<void> {
  const distDir = options.distDir ?? CONSOLE_DIST;
  const log = options.log ?? (() => {});
  try {
    await (options.ensureBuilt ?? defaultEnsureBuilt)();
  } catch (error) {
    log(`console: could not build the UI (${(error as Error).message}); serving what is in ${distDir}`);
  }

  const secure = (reply: FastifyReply) => reply
    .header('content-security-policy', CONSOLE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-cache');

  const serve = (file: string, reply: FastifyReply) => {
    const full = path.join(distDir, file);
    if (!existsSync(path.join(distDir, 'index.html')) || !existsSync(path.join(distDir, 'app.js'))) {
      return secure(reply).code(503).type('text/plain; charset=utf-8')
        .send('UI not built: run npm run build:ui (the admin console bundle dist/ui/console is missing).\n');
    }
    if (!existsSync(full)) return secure(reply).code(404).type('text/plain; charset=utf-8').send('Not found\n');
    return secure(reply).type(TYPES[path.extname(file)] ?? 'application/octet-stream').send(readFileSync(full));
  };

  app.get('/console', async (_req, reply) => reply.redirect('/console/', 308));
  app.get('/console/', async (_req, reply) => serve('index.html', reply));
  // Flat folder of static files: one path segment, no dot-files, nothing outside distDir.
  app.get<{ Params: { file: string } }>('/console/:file', async (req, reply) => {
    const file = req.params.file;
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(file) || file === 'build.json') return secure(reply).code(404).send('Not found\n');
    return serve(file, reply);
  });
}

async function defaultEnsureBuilt(): Promise<unknown> {
  return ensureUiBuilt({ log: () => {} });
}
