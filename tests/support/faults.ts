/**
 * What the fault-injection tests (tests/e2e/faults-*.stack.test.ts) share: the stack commands run
 * without blocking the event loop, role processes in a namespace of their own, paced senders
 * that resend after Retry-After, and waits on lag, archive and log.
 */
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { type Traffic } from './traffic.ts';
import { freshNamespace, startRoleProcess, type Namespace, type RoleProcess } from './cluster.ts';
import { getJson, pool, waitFor } from './appliance.ts';
import { Kafka, logLevel } from 'kafkajs';
import { sleep } from '../../core/async.ts';
import { HOUR_MS } from '../../core/time.ts';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const execFileP = promisify(execFile);

/** `npm run stack -- <args>`, without blocking the event loop (senders keep running meanwhile). */
export async function stack(...args: string[]): Promise<void> {
  try {
    await execFileP('npm', ['run', '--silent', 'stack', '--', ...args], { cwd: root, timeout: 300_000 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`npm run stack -- ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/** Logs how long each phase of a test took (as test diagnostics). */
export function phases(t: TestContext): (name: string) => void {
  let last = Date.now();
  return (name) => {
    const now = Date.now();
    t.diagnostic(`${name}: ${((now - last) / 1000).toFixed(1)} s`);
    last = now;
  };
}


/** Whatever happened in a test, leave every service running: each fault file's after(). */
export async function restartEveryService(): Promise<void> {
  await stack('up');
}

// ---------------------------------------------------------------- per-test setup

export interface Roles {
  ns: Namespace;
  /** name → process, in start order. */
  processes: { name: string; p: RoleProcess }[];
}

/** A namespace of its own and the role processes, all stopped and dropped when the test ends. */
export async function startRoles(t: TestContext, prefix: string, groups: string[]): Promise<Roles & { procs: RoleProcess[] }> {
  // Every service up to begin with (a no-op when they are; cheap insurance after an earlier failure).
  await stack('up');
  const ns = freshNamespace(prefix);
  const processes: Roles['processes'] = [];
  t.after(async () => {
    for (const { p } of [...processes].reverse()) await p.stop(); // no-op for those stopCleanly stopped
    await ns.drop();
  });
  // One after another: the first (admin) process creates the tenant, and the Cassandra schema
  // migrations of one keyspace should not race.
  for (const roles of groups) processes.push({ name: roles, p: await startRoleProcess(ns.env, roles) });
  return { ns, processes, procs: processes.map((x) => x.p) };
}

/**
 * Stops every role process with SIGTERM, as a process manager would: each must exit 0, promptly
 * (after a Cassandra restart a node used to hang on a socket cassandra-driver leaked, until SIGKILL).
 */
export async function stopCleanly(t: TestContext, roles: Roles): Promise<void> {
  const stops: string[] = [];
  for (const { name, p } of [...roles.processes].reverse()) {
    const t0 = Date.now();
    const code = await p.stop();
    const took = Date.now() - t0;
    stops.push(`${name} ${took} ms`);
    assert.equal(code, 0, `almanac --roles ${name}: exit code on SIGTERM (null: killed after 30 s)`);
    assert.ok(took < 15_000, `almanac --roles ${name} took ${took} ms to exit on SIGTERM`);
  }
  t.diagnostic(`SIGTERM to exit: ${stops.join(', ')}`);
}

/** Runs `fn`; on failure, appends the tail of every role process's output to the error. */
export async function explained<T>(roles: Roles, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    // kafkajs repeats its connection errors for as long as Kafka is down: leave those out.
    const noisy = /kafka ERROR \[(Connection|BrokerPool)\]/;
    const tails = roles.processes
      .map(({ name, p }) => {
        const lines = p.output().split('\n');
        const kept = lines.filter((l) => !noisy.test(l)).join('\n');
        return `--- almanac --roles ${name} (exit ${p.child.exitCode ?? 'running'}), last 6000 chars of its output (${lines.length - kept.split('\n').length} kafkajs connection-error lines left out):\n${kept.slice(-6000)}`;
      })
      .join('\n');
    if (err instanceof Error) err.message += `\n${tails}`;
    throw err;
  }
}

// ---------------------------------------------------------------- HTTP helpers

export interface AdminStatus {
  partitions: number;
  aggregatorLag: number[];
  aggregator: { processed: number; duplicates: number; skippedBelowCheckpoint: number; commits: number; failedCommits: number; lastCommitAt: number | null } | null;
  ingest: unknown;
}

export async function adminStatus(url: string, apiKey: string): Promise<AdminStatus> {
  const r = await getJson(`${url}/api/admin/status`, apiKey);
  if (r.status !== 200) throw new Error(`GET /api/admin/status answered ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body as AdminStatus;
}

/** Waits until the aggregator has committed every record of the log (lag 0 on every partition). */
export async function waitForZeroLag(adminUrl: string, apiKey: string, timeoutMs: number): Promise<AdminStatus> {
  let status: AdminStatus | undefined;
  let problem = 'no answer yet';
  const ok = await waitFor(async () => {
    try {
      status = await adminStatus(adminUrl, apiKey);
      problem = JSON.stringify(status);
      return status.aggregatorLag.every((l) => l === 0);
    } catch (err) {
      problem = (err as Error).message;
      return false;
    }
  }, timeoutMs, 500);
  assert.ok(ok && status, `aggregator lag not 0 after ${timeoutMs} ms: ${problem}`);
  return status;
}

export async function health(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: await res.json() };
}

export async function waitForArchive(ns: Namespace, trackingId: string, expected: number, timeoutMs: number): Promise<void> {
  const archived = () => ns.countArchived(trackingId);
  assert.ok(await waitFor(async () => (await archived()) >= expected, timeoutMs, 500), `archive holds ${await archived()} of ${expected} events after ${timeoutMs} ms`);
  assert.equal(await archived(), expected, 'archive count');
}

/** Records in the namespace's event-log topic (sum of the partitions' end offsets). */
export async function logRecords(ns: Namespace): Promise<number> {
  const admin = new Kafka({ brokers: ns.env.ALMANAC_KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(`${ns.name}.events`)).reduce((sum, o) => sum + Number(o.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/** A range covering the traffic, as assertStatsMatchTruth builds it. */
export function rangeOf(traffic: Pick<Traffic, 'from' | 'to'>): string {
  return `from=${new Date(traffic.from - HOUR_MS).toISOString()}&to=${new Date(traffic.to + HOUR_MS).toISOString()}`;
}

/** Two generated traffics with disjoint visitors, as one traffic with the summed truth. */
export function combine(a: Traffic, b: Traffic): Traffic {
  const truth = { ...a.truth };
  for (const k of Object.keys(truth) as (keyof Traffic['truth'])[]) truth[k] += b.truth[k];
  return { sends: [...a.sends, ...b.sends], truth, from: Math.min(a.from, b.from), to: Math.max(a.to, b.to) };
}

/** Moves a traffic's visitors to other IP addresses (10.x → <first>.x), so they are new visitors. */
export function moveVisitors(traffic: Traffic, first: number): Traffic {
  for (const v of new Set(traffic.sends.map((s) => s.visitor))) v.ip = v.ip.replace(/^10\./, `${first}.`);
  return traffic;
}

// ---------------------------------------------------------------- a paced browser-like sender

export interface Attempt {
  status: number; // 0: no HTTP answer (connection refused/reset, timeout)
  retryAfter: string | null;
  at: number;
  error?: string;
}

export interface Sending {
  attempts: Attempt[];
  /** eventId → final status (0 if the sender gave up without an answer). */
  final: Map<string, number>;
  /** Events that got 202 after at least one 503 (resent after Retry-After). */
  resentAfter503: number;
  accepted(): number;
  done: Promise<void>;
}

/**
 * Sends the traffic as browsers would (one visitor's events in order), paced at `ratePerSec`, and
 * records every attempt. 503 and 429 are resent with the same eventId after Retry-After, as real
 * clients do; after `giveUpAt` the sender stops retrying.
 */
export function sendPaced(collectorUrl: string, traffic: Traffic, o: { ratePerSec: number; giveUpAt: number; concurrency?: number }): Sending {
  const s: Sending = {
    attempts: [],
    final: new Map(),
    resentAfter503: 0,
    accepted: () => [...s.final.values()].filter((x) => x === 202).length,
    done: Promise.resolve(),
  };
  const previous = new Map<string, Promise<void>>();
  const t0 = Date.now();
  s.done = pool(traffic.sends, o.concurrency ?? 24, async ({ visitor, event }, i) => {
    await sleep(t0 + (i * 1000) / o.ratePerSec - Date.now());
    const before = previous.get(visitor.ip) ?? Promise.resolve();
    const sent = before.then(async () => {
      let had503 = false;
      for (;;) {
        let attempt: Attempt;
        try {
          const res = await fetch(`${collectorUrl}/api/event`, {
            method: 'POST',
            headers: { 'content-type': 'text/plain', origin: 'https://shop.example', 'user-agent': visitor.userAgent, 'x-forwarded-for': visitor.ip },
            body: JSON.stringify(event),
            signal: AbortSignal.timeout(20_000),
          });
          await res.arrayBuffer();
          attempt = { status: res.status, retryAfter: res.headers.get('retry-after'), at: Date.now() };
        } catch (err) {
          attempt = { status: 0, retryAfter: null, at: Date.now(), error: String((err as Error).cause ?? err) };
        }
        s.attempts.push(attempt);
        const retry = attempt.status === 0 || attempt.status === 429 || attempt.status === 503;
        if (!retry || Date.now() > o.giveUpAt) {
          s.final.set(event.eventId, attempt.status);
          if (attempt.status === 202 && had503) s.resentAfter503++;
          return;
        }
        if (attempt.status === 503) had503 = true;
        await sleep(attempt.retryAfter ? Number(attempt.retryAfter) * 1000 : 1000);
      }
    });
    previous.set(visitor.ip, sent);
    await sent;
  });
  return s;
}

export function countBy(attempts: readonly Attempt[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const a of attempts) out[a.status] = (out[a.status] ?? 0) + 1;
  return out;
}

export async function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not done after ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------- 1. Kafka
