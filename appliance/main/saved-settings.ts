/**
 * `<dataDir>/appliance.json`: what the appliance runs with (profile, namespace, public URL, port),
 * written at each start, so that the CLI run beside it works on the same storage and prints
 * snippets for the same URL. Without it, `almanac tenants list` beside a cluster node
 * opened a new SQLite file and answered `[]`. No secrets in it (those are in credentials.json).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AlmanacConfig, Profile } from './config.ts';
import { ConfigError } from '../../core/errors.ts';

export const SETTINGS_FILE = 'appliance.json';

export interface SavedSettings {
  profile: Profile;
  /** Cluster profile only. */
  namespace?: string;
  publicUrl: string;
  port: number;
  savedAt?: number;
}

type Env = Record<string, string | undefined>;

/** Written by the process that serves the node's traffic (or supervises it); atomic by rename. */
export function saveSettings(config: Pick<AlmanacConfig, 'dataDir' | 'profile' | 'port' | 'cluster'>, publicUrl: string, now = Date.now()): void {
  const settings: SavedSettings = {
    profile: config.profile,
    ...(config.profile === 'cluster' ? { namespace: config.cluster.namespace } : {}),
    publicUrl,
    port: Number(new URL(publicUrl).port) || config.port,
    savedAt: now,
  };
  mkdirSync(config.dataDir, { recursive: true });
  const file = path.join(config.dataDir, SETTINGS_FILE);
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(settings, null, 2) + '\n');
  renameSync(temp, file);
}

export function readSavedSettings(dataDir: string): SavedSettings | undefined {
  let text: string;
  try {
    text = readFileSync(path.join(dataDir, SETTINGS_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const s = JSON.parse(text) as Partial<SavedSettings>;
    return s.profile === 'embedded' || s.profile === 'cluster' ? (s as SavedSettings) : undefined;
  } catch {
    return undefined; // half a file from an old crash: the environment decides, as before
  }
}

/**
 * The CLI's environment: what is not given is taken from the appliance's saved settings; a
 * profile or namespace given that disagrees with them is refused, since it would open other
 * storage than the appliance's (an empty one, silently).
 */
export function cliEnv(env: Env, cwd = process.cwd()): Env {
  const dataDir = path.resolve(cwd, env.ALMANAC_DATA_DIR?.trim() || '.data');
  const saved = readSavedSettings(dataDir);
  if (!saved) return env;
  const given = (name: string) => env[name]?.trim() || undefined;
  const where = `The appliance that runs with ${dataDir} uses`;
  const fix = `Leave the setting out to use the appliance's, or pass --data-dir of the appliance you mean.`;
  if (given('ALMANAC_PROFILE') && given('ALMANAC_PROFILE') !== saved.profile) {
    throw new ConfigError([`${where} the ${saved.profile} profile (${SETTINGS_FILE}), but --profile / ALMANAC_PROFILE says ${given('ALMANAC_PROFILE')}. ${fix}`]);
  }
  if (saved.profile === 'cluster' && saved.namespace && given('ALMANAC_NAMESPACE') && given('ALMANAC_NAMESPACE') !== saved.namespace) {
    throw new ConfigError([`${where} the namespace ${saved.namespace} (${SETTINGS_FILE}), but --namespace / ALMANAC_NAMESPACE says ${given('ALMANAC_NAMESPACE')}. ${fix}`]);
  }
  return {
    ...env,
    ALMANAC_PROFILE: saved.profile,
    ...(saved.profile === 'cluster' && saved.namespace ? { ALMANAC_NAMESPACE: saved.namespace } : {}),
    // An explicit URL or port is the caller's; otherwise the snippets name the running appliance.
    ...(!given('ALMANAC_PUBLIC_URL') && !given('ALMANAC_PORT') ? { ALMANAC_PUBLIC_URL: saved.publicUrl } : {}),
  };
}
