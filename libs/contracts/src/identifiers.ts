import { z } from 'zod';

/**
 * NHS number: ten digits, the tenth a Modulus 11 check digit over the first nine with weights 10..2.
 * check = 11 - (sum mod 11); 11 means 0 and 10 means the number is invalid.
 * Accepts spaces or hyphens between groups (e.g. "943 476 5919"); returns the ten digits or null.
 */
export function normaliseNhsNumber(input: string): string | null {
  const digits = input.trim().replace(/[\s-]/g, '');
  if (!/^[0-9]{10}$/.test(digits)) return null;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(digits[i]) * (10 - i);
  const remainder = 11 - (sum % 11);
  const check = remainder === 11 ? 0 : remainder;
  if (check === 10) return null;
  return check === Number(digits[9]) ? digits : null;
}

export const isValidNhsNumber = (input: string): boolean => normaliseNhsNumber(input) !== null;

/** A zod schema that accepts a formatted NHS number and outputs the normalised ten digits. */
export const nhsNumberSchema = z.string().transform((value, ctx) => {
  const n = normaliseNhsNumber(value);
  if (n === null) {
    ctx.addIssue({ code: 'custom', message: 'not a valid NHS number (10 digits with a Modulus 11 check digit)' });
    return z.NEVER;
  }
  return n;
});

/**
 * ODS codes identify organisations: GP practices (a letter and five digits, e.g. A81001),
 * trusts (three characters starting R or T, e.g. RJ1) and their sites (five, e.g. RJ122).
 * The shape is checked here; whether the code exists is the directory's business.
 */
export const odsCodeSchema = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z0-9]{3,10}$/, 'not an ODS code (3 to 10 letters and digits)');

export const referralIdSchema = z.uuid();
