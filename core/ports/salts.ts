/**
 * The daily salts of cookieless visitor IDs (collectors/enrich/salt.ts), kept in the registry so
 * they survive restarts and every collector uses the same one. Required: a collector that cannot
 * read the day's salt must not make up its own (that would count one visitor twice).
 */
export interface SaltRegistry {
  /**
   * Stores `candidate` as the salt of the UTC day starting at `day` (ms) unless that day has one
   * (create once, compare-and-set); returns the salt now stored (the winner's, under races).
   */
  getOrCreateDailySalt(day: number, candidate: string): Promise<string>;
  /** Deletes the salts of the days starting before `day` (ms); returns how many were deleted. */
  deleteDailySaltsBefore(day: number): Promise<number>;
  /** The days (ms, ascending) that have a salt; for maintenance checks and tests. */
  listDailySaltDays(): Promise<number[]>;
}
