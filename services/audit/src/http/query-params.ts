import { z } from 'zod';

/**
 * The primitives every audit endpoint builds its query (and search body) from. Each one rejects through zod issues
 * only, never by throwing from inside a refinement (zod 4 runs a refinement even after an earlier check of the same
 * value failed: `BigInt('abc')` in one answered 500), and accepts only what PostgreSQL takes as it is given, so no
 * value can reach the database and fail there instead.
 */

/** The largest bigint PostgreSQL holds: sequence numbers and cursors beyond it cannot exist. */
export const MAX_SEQ = 2n ** 63n - 1n;

/** A positive sequence number as a decimal string (bigint range), e.g. a cursor or a verify start. */
export const seqNumber = (message: string) =>
  z
    .string()
    .regex(/^[0-9]{1,19}$/, message)
    .refine((s) => /^[0-9]{1,19}$/.test(s) && BigInt(s) >= 1n && BigInt(s) <= MAX_SEQ, message);

/** A page size: a whole number in [1, max], as a query string's digits or a JSON body's number. */
export const pageSize = (max: number, fallback: number) =>
  z
    .union(
      [
        z.int(),
        z
          .string()
          .regex(/^[0-9]{1,6}$/)
          .transform(Number),
      ],
      { error: `must be a whole number from 1 to ${max}` },
    )
    .pipe(z.int().min(1, `must be a whole number from 1 to ${max}`).max(max, `must be a whole number from 1 to ${max}`))
    .default(fallback);

/**
 * Free text compared with a column (an actor's id): no control characters (PostgreSQL text cannot hold NUL, and
 * none belongs in an id), no U+FFFD (what bytes that were not UTF-8 decode to), bounded length.
 */
export const plainText = (max: number) =>
  z
    .string()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .regex(/^[^\p{Cc}\p{Cs}\uFFFD]+$/u, 'must not hold control characters or bytes that are not UTF-8');

/** For endpoints that take no query parameters: any given is named as unknown. */
export const noQuery = z.object({}).strict();
