/**
 * MurmurHash3 x86_128 (only 32-bit multiplies, so fast in JS without BigInt) over a string's
 * UTF-16LE code units, seed 0; its h1 and h2 words are the high and low 32 bits of the 64-bit
 * hash. The HyperLogLog sketches (hll.ts) are built on it: stored sketches depend on every bit
 * of this function, so never change it without bumping the sketches' FORMAT tags.
 */

export interface Hash64 {
  /** High 32 bits (unsigned). */
  hi: number;
  /** Low 32 bits (unsigned). */
  lo: number;
}

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/**
 * 64-bit hash of a string: MurmurHash3 x86_128 of its UTF-16LE bytes (two code units per
 * 32-bit word, so no TextEncoder allocation), seed 0, first 64 bits. Hash once, add to many sketches.
 */
export function murmur3Hash64(s: string): Hash64 {
  const len = s.length;
  let h1 = 0;
  let h2 = 0;
  let h3 = 0;
  let h4 = 0;
  let i = 0;
  const blockEnd = len - (len & 7); // 8 code units = one 16-byte block
  for (; i < blockEnd; i += 8) {
    let k1 = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16);
    let k2 = s.charCodeAt(i + 2) | (s.charCodeAt(i + 3) << 16);
    let k3 = s.charCodeAt(i + 4) | (s.charCodeAt(i + 5) << 16);
    let k4 = s.charCodeAt(i + 6) | (s.charCodeAt(i + 7) << 16);

    k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2);
    h1 ^= k1;
    h1 = rotl(h1, 19);
    h1 = (h1 + h2) | 0;
    h1 = (Math.imul(h1, 5) + 0x561ccd1b) | 0;

    k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3);
    h2 ^= k2;
    h2 = rotl(h2, 17);
    h2 = (h2 + h3) | 0;
    h2 = (Math.imul(h2, 5) + 0x0bcaa747) | 0;

    k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4);
    h3 ^= k3;
    h3 = rotl(h3, 15);
    h3 = (h3 + h4) | 0;
    h3 = (Math.imul(h3, 5) + 0x96cd1c35) | 0;

    k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1);
    h4 ^= k4;
    h4 = rotl(h4, 13);
    h4 = (h4 + h1) | 0;
    h4 = (Math.imul(h4, 5) + 0x32ac3b17) | 0;
  }

  // Tail: the byte-wise switch of the reference, two bytes (one code unit) at a time.
  let k1 = 0;
  let k2 = 0;
  let k3 = 0;
  let k4 = 0;
  switch (len & 7) {
    case 7:
      k4 ^= s.charCodeAt(i + 6);
      k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1);
      h4 ^= k4;
    // falls through
    case 6:
      k3 ^= s.charCodeAt(i + 5) << 16;
    // falls through
    case 5:
      k3 ^= s.charCodeAt(i + 4);
      k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4);
      h3 ^= k3;
    // falls through
    case 4:
      k2 ^= s.charCodeAt(i + 3) << 16;
    // falls through
    case 3:
      k2 ^= s.charCodeAt(i + 2);
      k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3);
      h2 ^= k2;
    // falls through
    case 2:
      k1 ^= s.charCodeAt(i + 1) << 16;
    // falls through
    case 1:
      k1 ^= s.charCodeAt(i);
      k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2);
      h1 ^= k1;
  }

  const bytes = len * 2;
  h1 ^= bytes;
  h2 ^= bytes;
  h3 ^= bytes;
  h4 ^= bytes;
  h1 = (h1 + h2) | 0;
  h1 = (h1 + h3) | 0;
  h1 = (h1 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix32(h1);
  h2 = fmix32(h2);
  h3 = fmix32(h3);
  h4 = fmix32(h4);
  h1 = (h1 + h2) | 0;
  h1 = (h1 + h3) | 0;
  h1 = (h1 + h4) | 0;
  h2 = (h2 + h1) | 0;
  return { hi: h1 >>> 0, lo: h2 >>> 0 };
}
