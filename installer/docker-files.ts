/**
 * docker/compose.yaml and docker/haproxy.cfg are the installer's output for the default choices
 * (FerretDB), kept in the repository for readers and for `docker compose` by hand. A test checks
 * they equal what the installer generates; `npm run docker:files` rewrites them.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderCompose } from './compose.ts';
import { renderHaproxyConfig } from './haproxy.ts';

export const DOCKER_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../docker');

export function dockerFiles(): Record<string, string> {
  return {
    'compose.yaml': renderCompose({ docstore: 'ferretdb' }),
    'haproxy.cfg': renderHaproxyConfig(),
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const [name, content] of Object.entries(dockerFiles())) {
    writeFileSync(path.join(DOCKER_DIR, name), content);
    console.log(`wrote docker/${name}`);
  }
}
