/**
 * How an event is stored in the log and the archive. JSON text: measured against v8.serialize
 * (see bench.ts, `codec`), JSON was faster to decode and about as fast to encode, and it stays
 * readable with the sqlite3 shell and tolerant of fields added to EnrichedEvent later.
 */
import type { EnrichedEvent } from '../../../core/event.ts';

export function encodeEvent(event: EnrichedEvent): string {
  return JSON.stringify(event);
}

export function decodeEvent(payload: string): EnrichedEvent {
  return JSON.parse(payload) as EnrichedEvent;
}
