#!/usr/bin/env node
// `almanac` with the aggregator's test hooks wired in, for tests that crash or mislead a real process:
//   node tests/support/hooked-almanac.mjs <hooks module URL> start
// The URL is aggregator-hooks.ts with its settings as query (hookedAlmanac() builds the command line).
import { register } from 'tsx/esm/api';

register();
const [hooksModule, ...argv] = process.argv.slice(2);
const { main } = await import('../../appliance/cli/main.ts');
process.exitCode = await main(argv, process.env, { hooksModule });
// As appliance/bin/almanac.mjs: once the command is done, a leaked client handle may not keep the process alive.
setTimeout(() => process.exit(), 2000).unref();
