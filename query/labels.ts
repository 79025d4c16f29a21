/**
 * Breakdown values as the stats API shows them. Rollups store one neutral NONE for an empty
 * dimension (core/rollup/labels.ts); only the answer relabels it where users expect a name:
 * a visit without a referrer source is direct traffic, "Direct / None" as in Plausible. Other
 * dimensions keep "(none)" (an empty UTM tag is not "direct"). Display only: no filter takes a
 * breakdown value, so nothing needs mapping back.
 */
import { NONE } from '../core/rollup/model.ts';

export const DIRECT = 'Direct / None';

export function displayValue(property: string, value: string): string {
  return property === 'source' && value === NONE ? DIRECT : value;
}
