/**
 * A small YAML writer for the files the installer generates (compose file): mappings, sequences,
 * strings, numbers, booleans. Every string is written double-quoted with JSON escapes, which YAML
 * reads the same way, so no value can turn into a number, a boolean or a tag by accident ("no",
 * "08", "1e3"). Keys are plain when they are safe, quoted otherwise. Written here rather than
 * taking a YAML library as a runtime dependency: the installer only ever writes, never reads YAML.
 */
export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue | undefined };

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_.\-/]*$/;

export function toYaml(value: YamlValue, header?: string): string {
  const lines: string[] = header ? header.split('\n').map((l) => (l ? `# ${l}` : '#')) : [];
  lines.push(...block(value, 0));
  return lines.join('\n') + '\n';
}

function block(value: YamlValue, indent: number): string[] {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return [`${pad}[]`];
    return value.flatMap((item) => {
      if (isScalar(item) || isEmpty(item)) return [`${pad}- ${scalar(item)}`];
      const [first, ...rest] = block(item, indent + 2);
      return [`${pad}- ${first.slice(indent + 2)}`, ...rest];
    });
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined) as [string, YamlValue][];
    if (entries.length === 0) return [`${pad}{}`];
    return entries.flatMap(([k, v]) => {
      const key = PLAIN_KEY.test(k) ? k : JSON.stringify(k);
      if (isScalar(v) || isEmpty(v)) return [`${pad}${key}: ${scalar(v)}`];
      return [`${pad}${key}:`, ...block(v, indent + 2)];
    });
  }
  return [`${pad}${scalar(value)}`];
}

function isScalar(v: YamlValue): v is string | number | boolean | null {
  return v === null || typeof v !== 'object';
}

function isEmpty(v: YamlValue): boolean {
  return Array.isArray(v) ? v.length === 0 : v !== null && typeof v === 'object' && Object.values(v).every((x) => x === undefined);
}

function scalar(v: YamlValue): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return '[]';
  if (typeof v === 'object') return '{}';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`cannot write ${v} to YAML`);
    return String(v);
  }
  if (typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}
