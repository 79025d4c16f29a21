/**
 * The archiver: copies every event of the log into the raw archive, idempotently by eventId.
 * The archive is the replay source of last resort once the log has trimmed its history.
 */
import type { EventLog, RawArchive, Subscription } from '../core/ports/index.ts';
import { ARCHIVER_GROUP } from '../core/consumer-groups.ts';


export interface ArchiverDeps {
  eventLog: EventLog;
  archive: RawArchive;
  log?: (message: string) => void;
}

export interface Archiver {
  readonly id: 'archiver';
  stats(): { archived: number; duplicates: number; lastBatchAt: number | null };
  onShutdown(): Promise<void>;
}

export async function startArchiver(deps: ArchiverDeps): Promise<Archiver> {
  let archived = 0;
  let duplicates = 0;
  let lastBatchAt: number | null = null;
  const subscription: Subscription = await deps.eventLog.subscribe({
    group: ARCHIVER_GROUP,
    maxBatch: 5000,
    async onBatch({ records }) {
      // Insert before the offset is committed: a crash here replays the batch, and the
      // unique eventId turns the replayed inserts into counted duplicates, not copies.
      const result = await deps.archive.insert(records.map((r) => r.event));
      archived += result.inserted;
      duplicates += result.duplicates;
      lastBatchAt = Date.now();
    },
  });
  return {
    id: 'archiver',
    stats: () => ({ archived, duplicates, lastBatchAt }),
    onShutdown: () => subscription.stop(),
  };
}
