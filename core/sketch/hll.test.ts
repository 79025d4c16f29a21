import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Hll, estimateUnion, hashValue } from './hll.ts';

function sketchOf(values: Iterable<string>): Hll {
  const h = Hll.create();
  for (const v of values) h.add(v);
  return h;
}

function* range(prefix: string, from: number, count: number): Generator<string> {
  for (let i = from; i < from + count; i++) yield `${prefix}${i}`;
}

describe('Hll accuracy against exact counts', () => {
  for (const n of [0, 1, 10, 100, 1_000, 10_000, 100_000, 1_000_000]) {
    test(`${n} distinct`, () => {
      const h = sketchOf(range('visitor-', 0, n));
      const est = h.estimate();
      if (n < 10_000) assert.ok(Math.abs(est - n) <= 2, `estimate ${est} for ${n}`);
      else assert.ok(Math.abs(est - n) / n <= 0.02, `estimate ${est} for ${n} (${(((est - n) / n) * 100).toFixed(2)}%)`);
    });
  }

  test('small counts are exact across many seeds (sparse linear counting)', () => {
    for (let seed = 0; seed < 50; seed++) {
      for (const n of [1, 2, 3, 7, 25, 60]) assert.equal(sketchOf(range(`s${seed}-`, 0, n)).estimate(), n);
    }
  });
});

describe('Hll representation', () => {
  test('empty sketch: estimate 0, serialises to and parses from an empty array', () => {
    const h = Hll.create();
    assert.equal(h.estimate(), 0);
    assert.equal(h.toBytes().length, 0);
    assert.equal(Hll.fromBytes(new Uint8Array(0)).estimate(), 0);
  });

  test('sparse is compact for small counts; dense past the threshold', () => {
    assert.ok(sketchOf(range('v', 0, 10)).toBytes().length < 64);
    assert.ok(sketchOf(range('v', 0, 1000)).toBytes().length < 4_500);
    assert.equal(sketchOf(range('v', 0, 20_000)).toBytes().length, 2 + 16384);
  });

  test('re-adding values is idempotent', () => {
    const h = sketchOf(range('v', 0, 500));
    const before = h.toBytes();
    for (const v of range('v', 0, 500)) assert.equal(h.add(v), false);
    assert.deepEqual(h.toBytes(), before);
    const d = sketchOf(range('v', 0, 9000));
    const dense = d.toBytes();
    for (const v of range('v', 0, 9000)) d.add(v);
    assert.deepEqual(d.toBytes(), dense);
  });

  test('clone is independent', () => {
    const a = sketchOf(range('v', 0, 10));
    const b = a.clone();
    b.add('other');
    assert.equal(a.estimate(), 10);
    assert.equal(b.estimate(), 11);
  });

  test('rejects malformed bytes', () => {
    for (const bad of [[9, 14], [1, 12, 0], [2, 14, 0], [1, 14], [1, 14, 2, 5], [1, 14, 1, 0]]) {
      assert.throws(() => Hll.fromBytes(Uint8Array.from(bad)), /invalid HLL sketch/, JSON.stringify(bad));
    }
  });

  test('hash is pinned (stored sketches depend on it)', () => {
    assert.deepEqual(hashValue(''), { hi: 0, lo: 0 });
    assert.deepEqual(hashValue('hello'), { hi: 0x498e4989, lo: 0x6c081b48 });
    assert.deepEqual(hashValue('日本語'), { hi: 0x8115664f, lo: 0x2fa2ce15 });
  });
});

// Sets as (prefix, from, count) ranges so both sparse and dense sketches get exercised cheaply.
const rangeArb = fc.record({
  prefix: fc.constantFrom('a', 'b'),
  from: fc.nat(3000),
  count: fc.oneof(fc.nat(40), fc.nat(6000)),
});

describe('Hll properties', () => {
  test('merge(A, B) is bit-identical to the sketch of A ∪ B', () => {
    fc.assert(
      fc.property(rangeArb, rangeArb, (ra, rb) => {
        const a = sketchOf(range(ra.prefix, ra.from, ra.count));
        const b = sketchOf(range(rb.prefix, rb.from, rb.count));
        const union = sketchOf([...range(ra.prefix, ra.from, ra.count), ...range(rb.prefix, rb.from, rb.count)]);
        const ab = a.clone();
        ab.merge(b);
        const ba = b.clone();
        ba.merge(a);
        assert.deepEqual(ab.toBytes(), union.toBytes());
        assert.deepEqual(ba.toBytes(), union.toBytes());
        assert.equal(ab.estimate(), union.estimate());
        assert.equal(estimateUnion([a.toBytes(), b.toBytes()]), union.estimate());
      }),
      { numRuns: 40 },
    );
  });

  test('serialisation round-trips', () => {
    fc.assert(
      fc.property(rangeArb, fc.array(fc.string(), { maxLength: 30 }), (r, extra) => {
        const h = sketchOf([...range(r.prefix, r.from, r.count), ...extra]);
        const bytes = h.toBytes();
        const back = Hll.fromBytes(bytes);
        assert.deepEqual(back.toBytes(), bytes);
        assert.equal(back.estimate(), h.estimate());
        // A parsed sketch keeps growing like the original.
        back.add('late');
        h.add('late');
        assert.deepEqual(back.toBytes(), h.toBytes());
      }),
      { numRuns: 60 },
    );
  });

  test('insertion order does not matter', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string(), { maxLength: 200 }), (values) => {
        const forward = sketchOf(values);
        const backward = sketchOf([...values].reverse());
        assert.deepEqual(forward.toBytes(), backward.toBytes());
        assert.equal(forward.estimate(), values.length);
      }),
      { numRuns: 100 },
    );
  });
});
