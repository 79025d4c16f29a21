/**
 * Builds the browser tracker with esbuild's JS API: the collector builds it on first use
 * (memoised), so it works right after `npm install` with no separate build step.
 * `npm run build:tracker` writes collectors/tracker/dist/tracker.js and prints the sizes.
 */
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export interface TrackerBundle {
  code: string;
  gzip: Buffer;
  /** Strong ETag over the code. */
  etag: string;
}

const ENTRY = fileURLToPath(new URL('./tracker.ts', import.meta.url));

/** Browsers from ~2018 on; newer syntax would be down-levelled by esbuild at a few bytes' cost. */
const TARGET = ['es2019'];

export async function buildTracker(): Promise<TrackerBundle> {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    format: 'iife',
    minify: true,
    target: TARGET,
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.text;
  return { code, gzip: gzipSync(code, { level: 9 }), etag: `"${createHash('sha256').update(code).digest('base64url').slice(0, 22)}"` };
}

let memo: Promise<TrackerBundle> | undefined;

/** The tracker, built once per process. */
export function getTracker(): Promise<TrackerBundle> {
  memo ??= buildTracker();
  memo.catch(() => (memo = undefined)); // a failed build is retried on the next request
  return memo;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const t = await buildTracker();
  const out = fileURLToPath(new URL('./dist/', import.meta.url));
  await mkdir(out, { recursive: true });
  await writeFile(out + 'tracker.js', t.code);
  console.log(`tracker.js: ${t.code.length} bytes, ${t.gzip.length} bytes gzipped → ${out}tracker.js`);
}
