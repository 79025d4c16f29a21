/** The collectors' per-day ingest counters, in the registry. */
export interface IngestCountRegistry {
  /** Adds ingest counters (accepted, rejected:<code>, bot:<reason>) for a tracking ID and UTC day. */
  addIngestCounts(trackingId: string, day: number, counts: Record<string, number>): Promise<void>;
  ingestCounts(trackingId: string, fromDay: number, toDay: number): Promise<Record<string, number>>;
}
