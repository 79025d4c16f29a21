/**
 * The installer's inputs, from flags, a JSON config file (--config) or the guided prompts, checked
 * once by one schema. A wrong value stops the installer with a message naming the flag.
 */
import { z } from 'zod';
import { PROFILES } from './sizing.ts';
import { DOCSTORES } from './compose.ts';
import { DEFAULT_ALMANAC_IMAGE } from './images.ts';
import type { InstallSettings } from './env-file.ts';

export class InstallerUsageError extends Error {}

export const InputSchema = z.object({
  dir: z.string().min(1),
  profile: z.enum(PROFILES),
  docstore: z.enum(DOCSTORES),
  httpPort: z.coerce.number().int().min(1).max(65535),
  publicUrl: z.string().url().refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL').optional(),
  image: z.string().regex(/^[a-z0-9][a-z0-9._\-/:]*$/, 'must be an image repository such as ghcr.io/acme/almanac (no tag)'),
  version: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'must be an image tag such as 0.1.0'),
  projectName: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lower-case letters, digits, - and _'),
}).strict();
export type InstallInput = z.infer<typeof InputSchema>;

/** Flag names as typed on the command line, mapped onto the schema's fields. */
const FLAGS: Record<string, keyof InstallInput> = {
  dir: 'dir', profile: 'profile', docstore: 'docstore', 'http-port': 'httpPort', 'public-url': 'publicUrl',
  image: 'image', version: 'version', project: 'projectName',
};

export function defaultInput(version: string): Omit<InstallInput, 'publicUrl'> {
  return { dir: '/opt/almanac', profile: 'small', docstore: 'ferretdb', httpPort: 8080, image: DEFAULT_ALMANAC_IMAGE, version, projectName: 'almanac' };
}

/** Flags win over the config file, which wins over the defaults. */
export function resolveInput(
  sources: { flags: Record<string, string>; configFile?: Record<string, unknown>; defaults: Omit<InstallInput, 'publicUrl'> },
): InstallInput {
  const fromFlags: Record<string, string> = {};
  for (const [flag, value] of Object.entries(sources.flags)) if (FLAGS[flag]) fromFlags[FLAGS[flag]] = value;
  const merged = { ...sources.defaults, ...(sources.configFile ?? {}), ...fromFlags };
  const parsed = InputSchema.safeParse(merged);
  if (!parsed.success) {
    const flagOf = (field: string) => Object.entries(FLAGS).find(([, f]) => f === field)?.[0] ?? field;
    throw new InstallerUsageError(parsed.error.issues
      .map((i) => `--${flagOf(String(i.path[0]))}: ${i.message}${i.path[0] ? ` (got ${JSON.stringify((merged as Record<string, unknown>)[String(i.path[0])])})` : ''}`)
      .join('\n'));
  }
  return parsed.data;
}

export function toSettings(input: InstallInput, hostname: string): InstallSettings {
  return {
    profile: input.profile,
    docstore: input.docstore,
    httpPort: input.httpPort,
    publicUrl: (input.publicUrl ?? `http://${hostname}:${input.httpPort}`).replace(/\/+$/, ''),
    image: input.image,
    version: input.version,
    projectName: input.projectName,
  };
}

/** The questions of the guided mode, in order, with the answer's field. */
export const QUESTIONS: { field: keyof InstallInput; question: string; choices?: readonly string[] }[] = [
  { field: 'dir', question: 'Installation folder (compose file, .env, backups)' },
  { field: 'profile', question: 'Layout: small (one box, 4 CPUs / 8 GiB) or large (16 CPUs / 32 GiB)', choices: PROFILES },
  { field: 'docstore', question: 'Document store: ferretdb (Apache-2.0) or mongodb (SSPL, if you license it)', choices: DOCSTORES },
  { field: 'httpPort', question: 'HTTP port on this machine' },
  { field: 'publicUrl', question: 'Public URL browsers use to reach Almanac' },
  { field: 'version', question: 'Almanac version (image tag)' },
];
