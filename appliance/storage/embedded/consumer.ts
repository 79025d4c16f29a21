/**
 * A consumer-group member that owns every partition (the embedded profile has one member).
 * One loop per partition: read from the committed offset, hand the batch to onBatch, commit the
 * next offset after it resolves. So a batch is committed only once processed (at-least-once on a
 * crash, exactly-once across a clean stop), and batches of one partition never overlap.
 */
import type { LogRecord, SubscribeOptions, Subscription } from '../../../core/ports/index.ts';
import { createWakeup, type Wakeup } from './wakeup.ts';

/** What the loops need from the log; synchronous because SQLite is. */
export interface ConsumerSource {
  partitions: number;
  read(partition: number, fromOffset: number, max: number): LogRecord[];
  committed(group: string): number[];
  commit(group: string, partition: number, nextOffset: number): void;
  /** Registers a wakeup for appends to a partition; returns the unregister function. */
  onAppend(partition: number, wake: () => void): () => void;
}

export interface ConsumerTiming {
  /** How often an idle loop looks for records appended by other processes, ms. */
  pollIntervalMs: number;
  /** First and maximum wait before redelivering a batch whose onBatch failed, ms. */
  retryMinMs: number;
  retryMaxMs: number;
  onError(err: unknown, context: string): void;
}

export async function startConsumer(source: ConsumerSource, options: SubscribeOptions, timing: ConsumerTiming): Promise<Subscription> {
  const partitions = Array.from({ length: source.partitions }, (_, p) => p);
  const maxBatch = Math.max(1, options.maxBatch ?? 500);
  let stopping = false;
  const wakeups: Wakeup[] = partitions.map(() => createWakeup());
  const unregister = partitions.map((p) => source.onAppend(p, () => wakeups[p].notify()));

  await options.onAssign?.(partitions);
  const start = source.committed(options.group);

  async function loop(p: number): Promise<void> {
    let next = start[p];
    let committed = next;
    let retryMs = timing.retryMinMs;
    const commit = () => {
      if (committed === next) return;
      try {
        source.commit(options.group, p, next);
        committed = next;
      } catch (err) {
        // Kept in memory; the next commit writes the later offset, which covers this one.
        timing.onError(err, `committing offset ${next} of partition ${p} for group '${options.group}'`);
      }
    };
    while (!stopping) {
      let records: LogRecord[];
      try {
        records = source.read(p, next, maxBatch);
      } catch (err) {
        timing.onError(err, `reading partition ${p} for group '${options.group}'`);
        await wakeups[p].wait(timing.retryMaxMs);
        continue;
      }
      if (records.length === 0) {
        await wakeups[p].wait(timing.pollIntervalMs);
        continue;
      }
      try {
        await options.onBatch({ partition: p, records });
      } catch (err) {
        // Not committed: the same records are delivered again after a pause.
        timing.onError(err, `processing a batch of partition ${p} (offsets ${records[0].offset}..${records[records.length - 1].offset}) for group '${options.group}'; it will be retried`);
        await wakeups[p].wait(retryMs);
        retryMs = Math.min(retryMs * 2, timing.retryMaxMs);
        continue;
      }
      retryMs = timing.retryMinMs;
      next = records[records.length - 1].offset + 1;
      commit();
    }
    commit();
  }

  const loops = partitions.map(loop);
  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        stopping = true;
        for (const w of wakeups) w.notify();
        await Promise.all(loops);
        for (const u of unregister) u();
        await options.onRevoke?.(partitions);
      })();
      return stopped;
    },
  };
}
