import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parse } from 'yaml';
import { toYaml, type YamlValue } from './compose.ts';

const key = fc.oneof(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.\-/]{0,12}$/), fc.string({ maxLength: 12 }));
// Strings YAML could read as something else when unquoted; the writer must keep them strings.
const tricky = fc.constantFrom('no', 'yes', 'on', 'null', '~', '08', '1e3', '0x1F', '- a', 'a: b', '#c', '*x', '&y', '!t', '', ' ', '${A:?b}', '$$REDISCLI_AUTH', "it's", 'line\nbreak', 'tab\t', '"q"', '\\');
const value: fc.Arbitrary<YamlValue> = fc.letrec<{ v: YamlValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.oneof(fc.string(), tricky, fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)), fc.boolean(), fc.constant(null)),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(key, tie('v'), { maxKeys: 4, noNullPrototype: true }),
  ),
})).v;

test('toYaml (the yaml package with the compose options): whatever it writes, a YAML parser reads back as the same value', () => {
  fc.assert(fc.property(value, (v) => {
    assert.deepEqual(parse(toYaml(v)), v);
  }), { numRuns: 500 });
});

test('toYaml: strings stay strings (no YAML 1.1 booleans or octal numbers), the header is a comment', () => {
  const text = toYaml({ a: 'no', b: '08', c: ['on', '1'], d: {} }, 'generated\nby a test');
  assert.match(text, /^# generated\n# by a test\n/);
  assert.deepEqual(parse(text), { a: 'no', b: '08', c: ['on', '1'], d: {} });
  assert.throws(() => toYaml({ a: Number.NaN }), /cannot write NaN/);
});
