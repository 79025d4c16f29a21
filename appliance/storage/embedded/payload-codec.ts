/**
 * How an event is stored in the log and the archive: JSON text. Measured against v8.serialize
 * (bench/storage-embedded.ts, 'codec' lines) on a ~650-byte event: JSON encodes ~2x and decodes ~2x faster, and
 * the sizes are within 2%. JSON also stays readable with the sqlite3 shell and tolerates fields
 * added to EnrichedEvent later. Changing the encoding of stored rows needs a migration.
 */
import type { EnrichedEvent } from '../../../core/event.ts';

export function encodeEvent(event: EnrichedEvent): string {
  return JSON.stringify(event);
}

export function decodeEvent(payload: string): EnrichedEvent {
  return JSON.parse(payload) as EnrichedEvent;
}
