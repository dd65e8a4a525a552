import { describe, expect, it } from 'vitest';
import { canonicalJson, compareCodePoints, jcs, opensppCanonical } from './canonical.js';
import { vectors } from './test-support/vectors.js';

describe('canonical forms against the Python-made vectors', () => {
  it.each(vectors.values.map((v) => [v.name, v] as const))('value %s', (_name, v) => {
    expect(jcs(v.value)).toBe(v.jcs);
    expect(opensppCanonical(v.value)).toBe(v.openspp);
    expect(canonicalJson(v.value, 'jcs')).toBe(v.jcs);
    expect(canonicalJson(v.value, 'openspp')).toBe(v.openspp);
  });

  it.each(vectors.envelopes.map((e) => [e.name, e] as const))('envelope %s', (_name, e) => {
    const signed = { header: e.header, message: e.message };
    expect(jcs(signed)).toBe(e.jcs.canonical);
    expect(Buffer.from(jcs(signed), 'utf8').toString('hex')).toBe(e.jcs.canonicalUtf8Hex);
    expect(opensppCanonical(signed)).toBe(e.openspp.canonical);
    expect(opensppCanonical(signed)).toMatch(/^[\x20-\x7e]*$/);
  });
});

describe('opensppCanonical', () => {
  it('escapes like Python json.dumps with ensure_ascii', () => {
    expect(opensppCanonical('José')).toBe('"Jos\\u00e9"');
    expect(opensppCanonical('北京')).toBe('"\\u5317\\u4eac"');
    expect(opensppCanonical('🎉')).toBe('"\\ud83c\\udf89"');
    expect(opensppCanonical('a/b')).toBe('"a/b"');
    expect(opensppCanonical('"\\\n\r\t\b\f')).toBe('"\\"\\\\\\n\\r\\t\\b\\f"');
    expect(opensppCanonical('\u0000\u001f\u007f\u2028')).toBe('"\\u0000\\u001f\\u007f\\u2028"');
    expect(opensppCanonical('\u00ff\uABCD')).toBe('"\\u00ff\\uabcd"'); // lower-case hex
  });

  it('keeps lone surrogates as Python does (JCS refuses them)', () => {
    expect(opensppCanonical('\ud800x')).toBe('"\\ud800x"');
    expect(() => jcs('\ud800x')).toThrow();
  });

  it('sorts keys by code point, not UTF-16 unit', () => {
    const value = { '\uff61': 1, '\u{1f389}': 2, a: 3 };
    expect(opensppCanonical(value)).toBe('{"a":3,"\\uff61":1,"\\ud83c\\udf89":2}');
    expect(jcs(value)).toBe('{"a":3,"\u{1f389}":2,"\uff61":1}');
  });

  it('prints literals, integers and nested containers', () => {
    expect(opensppCanonical({ b: [1, -2, 0, true, false, null], a: {} })).toBe('{"a":{},"b":[1,-2,0,true,false,null]}');
    expect(opensppCanonical(-0)).toBe('0');
    expect(opensppCanonical(9007199254740991)).toBe('9007199254740991');
    expect(opensppCanonical(1e21)).toBe('1000000000000000000000'); // a Python int keeps its digits
    expect(opensppCanonical(12345678901234567890n)).toBe('12345678901234567890');
    // Non-integers: ECMAScript spelling (Python's float spellings are out of scope).
    expect(opensppCanonical(1.5)).toBe('1.5');
  });

  it('skips undefined members like JSON.stringify and uses toJSON', () => {
    expect(opensppCanonical({ a: undefined, b: 1, c: () => 1 })).toBe('{"b":1}');
    expect(opensppCanonical([undefined, 1])).toBe('[null,1]');
    expect(opensppCanonical({ d: new Date(0) })).toBe('{"d":"1970-01-01T00:00:00.000Z"}');
  });

  it('refuses what JSON cannot carry', () => {
    expect(() => opensppCanonical(Number.NaN)).toThrow(TypeError);
    expect(() => opensppCanonical(Number.POSITIVE_INFINITY)).toThrow(TypeError);
    expect(() => opensppCanonical(undefined)).toThrow(TypeError);
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => opensppCanonical(loop)).toThrow(/circular/);
    expect(() => jcs(undefined)).toThrow(TypeError);
  });

  it('accepts the same object twice when it is not a cycle', () => {
    const shared = { x: 1 };
    expect(opensppCanonical({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
  });
});

describe('compareCodePoints', () => {
  const sorted = (keys: string[]) => [...keys].sort(compareCodePoints);

  it('orders like Python sorted()', () => {
    // Python: sorted(['b','a','B','ä','€','｡','𝄞','🎉','','a\x00','\ue000','\ud7ff'])
    expect(sorted(['b', 'a', 'B', 'ä', '€', '｡', '𝄞', '🎉', '', 'a\u0000', '\ue000', '\ud7ff'])).toEqual([
      '',
      'B',
      'a',
      'a\u0000',
      'b',
      'ä',
      '€',
      '\ud7ff',
      '\ue000',
      '｡',
      '𝄞',
      '🎉',
    ]);
  });

  it('handles shared prefixes and lone surrogates', () => {
    expect(compareCodePoints('x🎉', 'x｡')).toBeGreaterThan(0);
    expect(compareCodePoints('\u{1f389}', '\u{1f38a}')).toBeLessThan(0); // same lead, trail differs
    expect(compareCodePoints('\ud83c', '\ud83c\udf89')).toBeLessThan(0); // lone lead < the pair
    expect(compareCodePoints('\ud83cA', '\u{1f389}')).toBeLessThan(0); // lone D83C < U+1F389
    expect(compareCodePoints('\ud83c\uff61', '\u{1f389}')).toBeLessThan(0);
    expect(compareCodePoints('\udc00', '\ue000')).toBeLessThan(0); // lone trail is U+DC00
    expect(compareCodePoints('same', 'same')).toBe(0);
    expect(compareCodePoints('ab', 'abc')).toBeLessThan(0);
  });
});
