#!/usr/bin/env node
// Installer tasks run where the appliance's settings are (inside an Almanac container, or locally).
import { register } from 'tsx/esm/api';

register();
const { runTask } = await import('../tasks.ts');
process.exitCode = await runTask(process.argv.slice(2), process.env, process.stdout, process.stderr);
// Client libraries (kafkajs, cassandra-driver) can keep a handle open after close; the task is done.
setTimeout(() => process.exit(), 2000).unref();
