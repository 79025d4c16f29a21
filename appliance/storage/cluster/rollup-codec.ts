/**
 * Binary encoding of one bucket's breakdown rows of one dimension (a `rollup_breakdowns.rows`
 * blob). Layout, all little-endian:
 *
 *   u8 version (1) · u32 row count · per row:
 *     str value · f64 pageviews, events, visits, bounces, durationMs, conversions
 *     · u16 currencies · per currency: str code · f64 minor units
 *     · u32 sketch length · sketch bytes
 *   str = u32 UTF-8 length · bytes
 *
 * f64 keeps every integer up to 2^53 exact, which is what the counters are in JS anyway.
 */
import type { BreakdownRow, Dimension } from '../../../core/rollup/model.ts';

const VERSION = 1;

export function encodeBreakdownRows(rows: readonly BreakdownRow[]): Buffer {
  let size = 5;
  const values = rows.map((r) => Buffer.from(r.value, 'utf8'));
  const currencies = rows.map((r) => Object.entries(r.revenue).map(([c, n]) => [Buffer.from(c, 'utf8'), n] as const));
  rows.forEach((r, i) => {
    size += 4 + values[i].length + 6 * 8 + 2 + 4 + r.visitors.byteLength;
    for (const [c] of currencies[i]) size += 4 + c.length + 8;
  });
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  o = out.writeUInt8(VERSION, o);
  o = out.writeUInt32LE(rows.length, o);
  rows.forEach((r, i) => {
    o = out.writeUInt32LE(values[i].length, o);
    o += values[i].copy(out, o);
    for (const n of [r.pageviews, r.events, r.visits, r.bounces, r.durationMs, r.conversions]) o = out.writeDoubleLE(n, o);
    o = out.writeUInt16LE(currencies[i].length, o);
    for (const [c, n] of currencies[i]) {
      o = out.writeUInt32LE(c.length, o);
      o += c.copy(out, o);
      o = out.writeDoubleLE(n, o);
    }
    o = out.writeUInt32LE(r.visitors.byteLength, o);
    o += Buffer.from(r.visitors.buffer, r.visitors.byteOffset, r.visitors.byteLength).copy(out, o);
  });
  return out;
}

export function decodeBreakdownRows(blob: Buffer | null | undefined, dimension: Dimension): BreakdownRow[] {
  if (!blob || blob.length === 0) return [];
  let o = 0;
  const version = blob.readUInt8(o);
  o += 1;
  if (version !== VERSION) throw new Error(`Unknown breakdown encoding version ${version}; this Almanac is older than the data.`);
  const count = blob.readUInt32LE(o);
  o += 4;
  const str = (): string => {
    const n = blob.readUInt32LE(o);
    o += 4;
    const s = blob.toString('utf8', o, o + n);
    o += n;
    return s;
  };
  const f64 = (): number => {
    const v = blob.readDoubleLE(o);
    o += 8;
    return v;
  };
  const out: BreakdownRow[] = [];
  for (let i = 0; i < count; i++) {
    const value = str();
    const pageviews = f64();
    const events = f64();
    const visits = f64();
    const bounces = f64();
    const durationMs = f64();
    const conversions = f64();
    const currencies = blob.readUInt16LE(o);
    o += 2;
    const revenue: Record<string, number> = {};
    for (let c = 0; c < currencies; c++) {
      const code = str();
      revenue[code] = f64();
    }
    const n = blob.readUInt32LE(o);
    o += 4;
    // A copy into a plain Uint8Array: the port promises Uint8Array, and a Buffer view would pin the blob.
    const visitors = new Uint8Array(n);
    visitors.set(blob.subarray(o, o + n));
    o += n;
    out.push({ dimension, value, pageviews, events, visits, bounces, durationMs, conversions, revenue, visitors });
  }
  return out;
}
