#!/usr/bin/env node
// The `almanac` command. Registers tsx so the TypeScript sources run as they are, then hands over.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2), process.env);
// The command is done (`start`: every role stopped, batches committed, storage closed), so nothing
// may keep the process alive now. A client library can leak a handle: cassandra-driver 4.10 leaves
// a socket open after shutdown() once Cassandra has restarted under it, and the node would then
// never exit on SIGTERM. Give the event loop a moment to drain by itself, then exit.
setTimeout(() => {
  const held = process.getActiveResourcesInfo().filter((r) => !['Timeout', 'PipeWrap', 'TTYWrap'].includes(r));
  process.stderr.write(`almanac: exiting although ${held.join(', ') || 'timers'} still open after the command finished\n`);
  process.exit();
}, 2000).unref();
