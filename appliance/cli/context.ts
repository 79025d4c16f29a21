/** What a registry command of the CLI gets: the appliance's registry, its arguments and flags, and where to print. */
import type { EventLog, Registry } from '../../core/ports/index.ts';
import { ControlError } from '../../control/errors.ts';
import type { AlmanacConfig } from '../main/config.ts';

export interface CliContext {
  config: Readonly<AlmanacConfig>;
  /** The registry the appliance uses, with its event log (replays choose their source by it). */
  registry: Registry & { eventLog: EventLog };
  /** Positional arguments after `<command> <sub>`. */
  args: string[];
  /** --flags as ALMANAC_* names (flagsToEnv). */
  flags: Record<string, string | undefined>;
  /** Pretty JSON on stdout. */
  print(value: unknown): void;
  write(text: string): void;
}

/** One command, e.g. `tenants create`; a refusal is a thrown ControlError (main prints it and exits with its code). */
export type CliCommand = (c: CliContext) => Promise<void>;

export function required(value: string | undefined, name: string): string {
  if (!value || value === 'true') throw new ControlError('invalid_request', `Missing ${name}. See: almanac help`);
  return value;
}

export function optionalInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new ControlError('invalid_request', `${name} must be a positive whole number, got "${value}"`);
  return n;
}
