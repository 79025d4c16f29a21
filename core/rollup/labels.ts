/**
 * How raw event fields become breakdown values. One label for "nothing here" keeps every
 * dimension's rows summing to the totals: an event with no UTM campaign still lands in a row.
 */
import { NONE, OTHER } from './model.ts';

/**
 * The value of an empty dimension: direct traffic (no referrer source), missing UTM fields,
 * unknown country/device/browser/os, a nameless event. Stored data keeps this one neutral label
 * (changing it would split rollups written before and after); the stats API displays it per
 * dimension, e.g. "Direct / None" for source as Plausible does (query/labels.ts).
 */
export { NONE, OTHER };

/** Raw field → stored value. A literal "(other)" in user input (a UTM tag) folds into OTHER. */
export function label(raw: string): string {
  return raw === '' ? NONE : raw;
}

/**
 * Revenue is stored as integer hundredths of the major unit for every currency (EUR cents,
 * JPY hundredths of a yen), so sums stay exact and the query side divides by 100 whatever
 * the currency, without an ISO 4217 exponent table on either side.
 */
export function toMinorUnits(amount: number): number {
  return Math.round(amount * 100);
}

export function fromMinorUnits(minor: number): number {
  return minor / 100;
}
