/** The append side of the event log in memory, with a knob to make it fail. */
import type { EnrichedEvent } from '../../../core/event.ts';

export interface FakeEventLog {
  appended: EnrichedEvent[];
  calls: number;
  fail: boolean;
  append(events: readonly EnrichedEvent[]): Promise<void>;
}

export function createFakeEventLog(): FakeEventLog {
  const log: FakeEventLog = {
    appended: [],
    calls: 0,
    fail: false,
    async append(events) {
      log.calls++;
      if (log.fail) throw new Error('log down');
      log.appended.push(...events);
    },
  };
  return log;
}
