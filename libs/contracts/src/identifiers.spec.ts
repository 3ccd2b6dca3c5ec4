import { isValidNhsNumber, nhsNumberSchema, normaliseNhsNumber, odsCodeSchema } from './identifiers';

/** Modulus 11 over the first nine digits, written out independently of the code under test. */
const checkDigitOf = (firstNine: string): number => {
  const sum = [...firstNine].reduce((acc, d, i) => acc + Number(d) * (10 - i), 0);
  return 11 - (sum % 11);
};

describe('NHS number', () => {
  describe('when the number is valid', () => {
    it.each(['9434765919', '943 476 5919', '943-476-5919', ' 9434765919 ', '943  476\t5919'])(
      'accepts %j and normalises it to ten digits',
      (input) => {
        expect(normaliseNhsNumber(input)).toBe('9434765919');
        expect(isValidNhsNumber(input)).toBe(true);
      },
    );

    it('accepts a number whose Modulus 11 remainder gives 11, with check digit 0', () => {
      // 9*10 + 8*9 + 7*8 + 6*7 + 5*6 + 4*5 + 3*4 + 2*3 + 1*2 = 330 = 30 * 11, so 11 - 0 = 11 -> check digit 0.
      expect(checkDigitOf('987654321')).toBe(11);
      expect(normaliseNhsNumber('9876543210')).toBe('9876543210');
      expect(checkDigitOf('943476590')).toBe(11);
      expect(normaliseNhsNumber('943 476 5900')).toBe('9434765900');
    });

    it('rejects the same nine digits with any check digit other than 0 when the remainder gives 11', () => {
      for (let d = 1; d <= 9; d++) expect(normaliseNhsNumber(`987654321${d}`)).toBeNull();
    });
  });

  describe('when the check digit is wrong', () => {
    it.each(['9434765918', '9434765910', '943 476 5911'])('rejects %j', (input) => {
      expect(normaliseNhsNumber(input)).toBeNull();
      expect(isValidNhsNumber(input)).toBe(false);
    });

    it('rejects a single transposition of two digits (what the check digit is for)', () => {
      expect(normaliseNhsNumber('4934765919')).toBeNull();
    });
  });

  describe('when the computed check digit would be 10', () => {
    it('rejects the number whatever its tenth digit', () => {
      // 1*10 + 2*9 + 3*8 + 4*7 + 5*6 + 6*5 + 7*4 + 8*3 + 9*2 = 210 = 19*11 + 1, so 11 - 1 = 10: never valid.
      expect(checkDigitOf('123456789')).toBe(10);
      for (let d = 0; d <= 9; d++) expect(normaliseNhsNumber(`123456789${d}`)).toBeNull();
    });

    it('rejects 943 476 596x, a neighbour of the valid example, for every x', () => {
      expect(checkDigitOf('943476596')).toBe(10);
      for (let d = 0; d <= 9; d++) expect(isValidNhsNumber(`943476596${d}`)).toBe(false);
    });
  });

  describe('when the input is not ten digits', () => {
    it.each([
      ['nine digits', '943476591'],
      ['eleven digits', '94347659190'],
      ['a letter', '94347659A9'],
      ['a full stop as separator', '943.476.5919'],
      ['a plus sign', '+9434765919'],
      ['non-ASCII digits', '٩٤٣٤٧٦٥٩١٩'],
      ['an empty string', ''],
      ['only spaces', '          '],
    ])('rejects %s', (_what, input) => {
      expect(normaliseNhsNumber(input)).toBeNull();
    });
  });

  describe('nhsNumberSchema', () => {
    it('outputs the normalised ten digits', () => {
      expect(nhsNumberSchema.parse('943 476 5919')).toBe('9434765919');
      expect(nhsNumberSchema.parse('943-476-5919')).toBe('9434765919');
    });

    it('rejects an invalid number with a message that does not contain the input', () => {
      const input = '943 476 5918';
      const r = nhsNumberSchema.safeParse(input);
      expect(r.success).toBe(false);
      if (r.success) return;
      expect(r.error.issues).toHaveLength(1);
      expect(r.error.issues[0]?.message).toMatch(/not a valid NHS number/);
      const everything = JSON.stringify(r.error.issues) + r.error.message;
      expect(everything).not.toContain('9434765918');
      expect(everything).not.toContain(input);
      expect(everything).not.toContain('476');
    });

    it('rejects a non-string', () => {
      expect(nhsNumberSchema.safeParse(9434765919).success).toBe(false);
    });
  });
});

describe('ODS code', () => {
  it.each([
    ['a GP practice', 'A81001', 'A81001'],
    ['a trust', 'RJ1', 'RJ1'],
    ['a trust site', 'RJ122', 'RJ122'],
    ['lower case with spaces around', '  rj122 ', 'RJ122'],
  ])('accepts %s and outputs it trimmed and upper-cased', (_what, input, expected) => {
    expect(odsCodeSchema.parse(input)).toBe(expected);
  });

  it.each([
    ['two characters', 'RJ'],
    ['eleven characters', 'A1234567890'],
    ['a hyphen', 'RJ-122'],
    ['an inner space', 'RJ 122'],
    ['an empty string', ''],
  ])('rejects %s', (_what, input) => {
    const r = odsCodeSchema.safeParse(input);
    expect(r.success).toBe(false);
    if (!r.success) expect(r.error.issues[0]?.message).toMatch(/not an ODS code/);
  });
});
