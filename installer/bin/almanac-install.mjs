#!/usr/bin/env node
// `almanac-install`: registers tsx so the installer's TypeScript runs as it is, then hands over.
import { readFileSync } from 'node:fs';
import { register } from 'tsx/esm/api';

register();
const { main, systemCliDeps } = await import('../cli.ts');
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
process.exitCode = await main(process.argv.slice(2), systemCliDeps(version));
