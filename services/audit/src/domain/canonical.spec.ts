import { canonicalJson, NotCanonicalisableError } from './canonical';

describe('canonical JSON (RFC 8785)', () => {
  describe('key order', () => {
    it('sorts keys, nested ones too, whatever order they came in', () => {
      expect(canonicalJson({ b: 1, a: { d: true, c: null } })).toBe('{"a":{"c":null,"d":true},"b":1}');
      expect(canonicalJson({ a: { c: null, d: true }, b: 1 })).toBe(canonicalJson({ b: 1, a: { d: true, c: null } }));
    });

    it('sorts by UTF-16 code units, not by locale (uppercase before lowercase, ASCII before accents)', () => {
      expect(canonicalJson({ b: 0, a: 0, B: 0, é: 0, '1': 0 })).toBe('{"1":0,"B":0,"a":0,"b":0,"é":0}');
    });

    it('sorts keys beyond the Basic Multilingual Plane by their surrogates, as the RFC requires', () => {
      // U+1F600 is D83D DE00 in UTF-16, which sorts before U+FB01 (FB01) although its code point is larger.
      expect(canonicalJson({ '\uFB01': 1, '😀': 2 })).toBe('{"😀":2,"ﬁ":1}');
    });

    it('keeps array order', () => {
      expect(canonicalJson([3, 1, 2])).toBe('[3,1,2]');
    });
  });

  describe('numbers', () => {
    it.each([
      [1.0, '1'],
      [-0, '0'],
      [1e21, '1e+21'],
      [1e-7, '1e-7'],
      [0.1 + 0.2, '0.30000000000000004'],
      [123456789012345680000, '123456789012345680000'],
      [5e-324, '5e-324'],
    ])('writes %p as %s (ECMAScript shortest form)', (n, text) => {
      expect(canonicalJson(n)).toBe(text);
    });

    it('refuses NaN and Infinity, which JSON cannot carry', () => {
      expect(() => canonicalJson({ n: Number.NaN })).toThrow(NotCanonicalisableError);
      expect(() => canonicalJson([Number.POSITIVE_INFINITY])).toThrow(NotCanonicalisableError);
    });
  });

  describe('strings and unicode', () => {
    it('escapes only what JSON must, and writes other characters as themselves', () => {
      expect(canonicalJson({ s: 'café ✓ 😀 "q" \\ \n\t\u0001' })).toBe('{"s":"café ✓ 😀 \\"q\\" \\\\ \\n\\t\\u0001"}');
    });

    it('does not normalise unicode: a precomposed and a decomposed é differ', () => {
      expect(canonicalJson('\u00e9')).not.toBe(canonicalJson('e\u0301'));
    });

    it('refuses a lone surrogate, which has no UTF-8 form', () => {
      expect(() => canonicalJson({ s: '\ud800' })).toThrow(NotCanonicalisableError);
    });
  });

  it('drops undefined members as JSON does, and refuses a value with no JSON form at all', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(() => canonicalJson(undefined)).toThrow(NotCanonicalisableError);
  });

  it('gives the same text for a value however it was formatted on the wire', () => {
    const wire = '{ "z" : [1.50, 2e0],\n "a":"x" }';
    expect(canonicalJson(JSON.parse(wire))).toBe('{"a":"x","z":[1.5,2]}');
  });
});
