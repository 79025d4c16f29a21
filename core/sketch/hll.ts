/**
 * HyperLogLog with precision 14 (16384 registers, ~0.81% standard error) for unique-visitor counts.
 *
 * Two representations, chosen by content alone so that equal inputs always give equal bytes:
 *  - sparse (HLL++ style): a sorted list of (25-bit index, rank) pairs. Most rollup rows
 *    (minute buckets, breakdown values) see few visitors, and a 25-bit index makes the
 *    linear-counting estimate practically exact up to the conversion threshold;
 *  - dense: 16384 one-byte registers, used once the sparse list passes SPARSE_MAX entries.
 * A sparse entry maps to exactly the dense register that a direct insert would have set,
 * so "convert then merge" and "merge then convert" agree and merge(A, B) is bit-identical
 * to the sketch of A ∪ B.
 *
 * Estimation: sparse uses linear counting over 2^25 buckets; dense uses Otmar Ertl's
 * "improved raw estimator" (New cardinality estimation algorithms for HyperLogLog sketches, 2017),
 * which needs no empirical bias tables and is unbiased from small to huge cardinalities.
 *
 * Hash: MurmurHash3 x86_128, first 64 bits (murmur3.ts). Stored sketches depend on it: never
 * change the hash without bumping FORMAT tags.
 *
 * One algorithm, kept in one file on purpose: the sparse and dense forms, their conversion,
 * merging, the byte format and the estimators all share the index/rank layout defined here.
 */
import { murmur3Hash64, type Hash64 } from './murmur3.ts';

export const HLL_PRECISION = 14;
const P = HLL_PRECISION;
const M = 1 << P; // 16384 registers
/** Bits of the hash left after the register index; ranks run 1..Q+1. */
const Q = 64 - P; // 50
/** Sparse precision: HLL++'s p'. 2^25 index space keeps sparse linear counting near-exact. */
const SP = 25;
const SM = 2 ** SP;
/** Extra index bits a sparse entry has over a dense index. */
const EXTRA = SP - P; // 11
/** Past this many sparse entries the sketch goes dense (4 bytes/entry in memory = the 16 KB of dense). */
const SPARSE_MAX = M / 4;

const TAG_SPARSE = 1;
const TAG_DENSE = 2;
const HEADER = 2; // tag, precision

/** The 64-bit visitor hash a sketch is built on (its stored bytes depend on it). */
export type HllHash = Hash64;

/** Hash once, add to many sketches. */
export const hashValue: (s: string) => HllHash = murmur3Hash64;

// ------------------------------------------------------------------ index / rank

/** Sparse entry = (25-bit index << 6) | rank; rank ≤ 40 fits 6 bits, entry < 2^31. */
function sparseEntry(h: HllHash): number {
  const idx = h.hi >>> (32 - SP);
  const rest = h.hi & ((1 << (32 - SP)) - 1); // 7 bits, then 32 bits of lo: 39 bits in all
  let rank: number;
  if (rest !== 0) rank = Math.clz32(rest) - SP + 1;
  else if (h.lo !== 0) rank = 32 - SP + Math.clz32(h.lo) + 1;
  else rank = 64 - SP + 1;
  return idx * 64 + rank;
}

/** The dense register and rank that a sparse entry stands for (what a direct dense insert sets). */
function denseIndex(entry: number): number {
  return entry >>> (6 + EXTRA);
}
function denseRank(entry: number): number {
  const low = (entry >>> 6) & ((1 << EXTRA) - 1);
  return low !== 0 ? Math.clz32(low) - (32 - EXTRA) + 1 : EXTRA + (entry & 63);
}

// ------------------------------------------------------------------ estimators (Ertl 2017)

function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  for (;;) {
    x *= x;
    const prev = z;
    z += x * y;
    y += y;
    if (z === prev) return z;
  }
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  for (;;) {
    x = Math.sqrt(x);
    const prev = z;
    y *= 0.5;
    z -= (1 - x) * (1 - x) * y;
    if (z === prev) return z / 3;
  }
}

function denseEstimate(registers: Uint8Array): number {
  const counts = new Float64Array(Q + 2);
  for (let i = 0; i < M; i++) counts[registers[i]]++;
  let z = M * tau((M - counts[Q + 1]) / M);
  for (let k = Q; k >= 1; k--) z = 0.5 * (z + counts[k]);
  z += M * sigma(counts[0] / M);
  return (M * M) / (2 * Math.LN2 * z);
}

// ------------------------------------------------------------------ varints

function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

// ------------------------------------------------------------------ the sketch

export class Hll {
  /** Dense registers, or null while sparse. */
  private registers: Uint8Array | null = null;
  /** Sorted sparse entries (capacity may exceed sparseLen). */
  private sparse: Uint32Array | null = null;
  private sparseLen = 0;

  private constructor() {}

  static create(): Hll {
    return new Hll();
  }

  /** Parses toBytes() output; an empty array is the empty sketch. Throws on malformed input. */
  static fromBytes(bytes: Uint8Array): Hll {
    const h = new Hll();
    if (bytes.length === 0) return h;
    if (bytes.length < HEADER || bytes[1] !== P) throw new Error(`invalid HLL sketch: bad header`);
    if (bytes[0] === TAG_DENSE) {
      if (bytes.length !== HEADER + M) throw new Error(`invalid HLL sketch: dense length ${bytes.length}`);
      const regs = bytes.slice(HEADER);
      for (let i = 0; i < M; i++) if (regs[i] > Q + 1) throw new Error('invalid HLL sketch: register out of range');
      h.registers = regs;
      return h;
    }
    if (bytes[0] !== TAG_SPARSE) throw new Error(`invalid HLL sketch: unknown tag ${bytes[0]}`);
    let pos = HEADER;
    const read = (): number => {
      let v = 0;
      let mul = 1;
      for (;;) {
        if (pos >= bytes.length) throw new Error('invalid HLL sketch: truncated');
        const b = bytes[pos++];
        v += (b & 0x7f) * mul;
        if (b < 0x80) return v;
        mul *= 128;
        if (mul > 2 ** 35) throw new Error('invalid HLL sketch: varint too long');
      }
    };
    const n = read();
    if (n > SM) throw new Error('invalid HLL sketch: too many entries');
    const entries = new Uint32Array(Math.max(n, 1));
    let prev = -1;
    for (let i = 0; i < n; i++) {
      const e = prev + 1 + read(); // deltas are stored minus one: entries strictly increase
      if (e >= 2 ** 31 || (e & 63) === 0 || (e & 63) > 64 - SP + 1) throw new Error('invalid HLL sketch: bad entry');
      if (i > 0 && e >>> 6 === prev >>> 6) throw new Error('invalid HLL sketch: duplicate index');
      entries[i] = e;
      prev = e;
    }
    if (pos !== bytes.length) throw new Error('invalid HLL sketch: trailing bytes');
    h.sparse = entries;
    h.sparseLen = n;
    if (n > SPARSE_MAX) h.toDense();
    return h;
  }

  /** Adds a value; returns true when the sketch changed (callers cache serialisations on it). */
  add(value: string): boolean {
    return this.addHash(hashValue(value));
  }

  /** Adds a pre-computed hashValue(): hash a visitor once, add it to every row it touches. */
  addHash(h: HllHash): boolean {
    const regs = this.registers;
    if (regs !== null) {
      const idx = h.hi >>> (32 - P);
      const rest = h.hi & ((1 << (32 - P)) - 1);
      let rank: number;
      if (rest !== 0) rank = Math.clz32(rest) - P + 1;
      else if (h.lo !== 0) rank = 32 - P + Math.clz32(h.lo) + 1;
      else rank = Q + 1;
      if (regs[idx] >= rank) return false;
      regs[idx] = rank;
      return true;
    }
    return this.addSparse(sparseEntry(h));
  }

  private addSparse(entry: number): boolean {
    const key = entry >>> 6;
    const arr = this.sparse;
    let lo = 0;
    let hi = this.sparseLen;
    if (arr !== null) {
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const k = arr[mid] >>> 6;
        if (k < key) lo = mid + 1;
        else if (k > key) hi = mid;
        else {
          if ((arr[mid] & 63) >= (entry & 63)) return false;
          arr[mid] = entry;
          return true;
        }
      }
    }
    this.insertAt(lo, entry);
    if (this.sparseLen > SPARSE_MAX) this.toDense();
    return true;
  }

  private insertAt(pos: number, entry: number): void {
    let arr = this.sparse;
    if (arr === null || this.sparseLen === arr.length) {
      const grown = new Uint32Array(arr === null ? 4 : arr.length * 2);
      if (arr !== null) grown.set(arr);
      arr = grown;
      this.sparse = arr;
    }
    arr.copyWithin(pos + 1, pos, this.sparseLen);
    arr[pos] = entry;
    this.sparseLen++;
  }

  private toDense(): void {
    if (this.registers !== null) return;
    const regs = new Uint8Array(M);
    const arr = this.sparse;
    for (let i = 0; i < this.sparseLen; i++) {
      const e = arr![i];
      const idx = denseIndex(e);
      const r = denseRank(e);
      if (regs[idx] < r) regs[idx] = r;
    }
    this.registers = regs;
    this.sparse = null;
    this.sparseLen = 0;
  }

  /** In place: register max (sparse: union of entries, max rank per index). */
  merge(other: Hll): void {
    if (other.registers === null && other.sparseLen === 0) return;
    if (this.registers === null && other.registers !== null) this.toDense();
    const regs = this.registers;
    if (regs !== null) {
      const o = other.registers;
      if (o !== null) {
        for (let i = 0; i < M; i++) if (o[i] > regs[i]) regs[i] = o[i];
      } else {
        const arr = other.sparse!;
        for (let i = 0; i < other.sparseLen; i++) {
          const e = arr[i];
          const idx = denseIndex(e);
          const r = denseRank(e);
          if (regs[idx] < r) regs[idx] = r;
        }
      }
      return;
    }
    // Both sparse: merge two sorted lists.
    const a = this.sparse;
    const b = other.sparse!;
    const na = this.sparseLen;
    const nb = other.sparseLen;
    const out = new Uint32Array(na + nb);
    let i = 0;
    let j = 0;
    let n = 0;
    while (i < na && j < nb) {
      const ka = a![i] >>> 6;
      const kb = b[j] >>> 6;
      if (ka < kb) out[n++] = a![i++];
      else if (kb < ka) out[n++] = b[j++];
      else {
        out[n++] = Math.max(a![i++], b[j++]); // same index: higher entry = higher rank
      }
    }
    while (i < na) out[n++] = a![i++];
    while (j < nb) out[n++] = b[j++];
    this.sparse = out;
    this.sparseLen = n;
    if (n > SPARSE_MAX) this.toDense();
  }

  /** Estimated number of distinct values, rounded. */
  estimate(): number {
    if (this.registers !== null) return Math.round(denseEstimate(this.registers));
    const n = this.sparseLen;
    if (n === 0) return 0;
    return Math.round(SM * Math.log(SM / (SM - n)));
  }

  /** True when nothing was ever added. */
  isEmpty(): boolean {
    return this.registers === null && this.sparseLen === 0;
  }

  /**
   * Canonical bytes: empty sketch → empty array; sparse → [1, 14, varint n, varint deltas−1…];
   * dense → [2, 14, 16384 registers]. Equal sketches always serialise identically.
   */
  toBytes(): Uint8Array {
    if (this.registers !== null) {
      const out = new Uint8Array(HEADER + M);
      out[0] = TAG_DENSE;
      out[1] = P;
      out.set(this.registers, HEADER);
      return out;
    }
    const n = this.sparseLen;
    if (n === 0) return new Uint8Array(0);
    const arr = this.sparse!;
    // Entries are < 2^31, so deltas are too and `>>> 7` is exact.
    let size = HEADER + varintSize(n);
    let prev = -1;
    for (let i = 0; i < n; i++) {
      const d = arr[i] - prev - 1;
      size += d < 0x80 ? 1 : d < 0x4000 ? 2 : d < 0x200000 ? 3 : d < 0x10000000 ? 4 : 5;
      prev = arr[i];
    }
    const out = new Uint8Array(size);
    out[0] = TAG_SPARSE;
    out[1] = P;
    let pos = HEADER;
    let v = n;
    while (v >= 0x80) {
      out[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    out[pos++] = v;
    prev = -1;
    for (let i = 0; i < n; i++) {
      let d = arr[i] - prev - 1;
      prev = arr[i];
      while (d >= 0x80) {
        out[pos++] = (d & 0x7f) | 0x80;
        d >>>= 7;
      }
      out[pos++] = d;
    }
    return out;
  }

  clone(): Hll {
    const h = new Hll();
    if (this.registers !== null) h.registers = this.registers.slice();
    else if (this.sparse !== null) {
      h.sparse = this.sparse.slice(0, Math.max(this.sparseLen, 1));
      h.sparseLen = this.sparseLen;
    }
    return h;
  }
}

/** Estimated distinct count of the union of serialised sketches (query side: visitors over a range). */
export function estimateUnion(sketches: readonly Uint8Array[]): number {
  const acc = Hll.create();
  for (const bytes of sketches) if (bytes.length > 0) acc.merge(Hll.fromBytes(bytes));
  return acc.estimate();
}
