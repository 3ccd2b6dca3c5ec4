import { z } from 'zod';
import { urgencySchema } from '@sonet/contracts';
import { REFERRAL_STATES } from '../domain/referral-state';

/** Worklist filters. `view` picks whose list: a GP's practice, a team's triage queue, or the referrals it sent. */
export const listReferralsQuerySchema = z
  .object({
    view: z.enum(['practice', 'receiving', 'original', 'mine', 'all']).optional(),
    state: z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.enum(REFERRAL_STATES)).min(1))
      .optional(),
    urgency: urgencySchema.optional(),
    specialty: z.string().trim().toLowerCase().min(1).max(100).optional(),
    overdue: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional(),
    limit: z.coerce.number().int().min(1).max(100).default(25),
    /** Decoded here, with the other parameters, so a bad cursor is a 400 before any query runs. */
    cursor: z
      .string()
      .min(1)
      .max(200)
      .transform((s, ctx) => {
        const cursor = decodeCursor(s);
        if (!cursor) ctx.addIssue({ code: 'custom', message: 'not a cursor this API gave out' });
        return cursor ?? z.NEVER;
      })
      .optional(),
  })
  .strict();

export type ListReferralsQuery = z.output<typeof listReferralsQuerySchema>;

/** Keyset cursor: the last row's (createdAt, id), newest first. Opaque to clients. */
export interface Cursor {
  readonly createdAt: string;
  readonly id: string;
}

export const encodeCursor = (c: Cursor): string => Buffer.from(JSON.stringify([c.createdAt, c.id])).toString('base64url');

const cursorSchema = z.tuple([z.iso.datetime(), z.uuid()]);
/** Only what encodeCursor gives: a date the format allows but the calendar does not (31 February) is refused too. */
const isInstant = (iso: string) => !Number.isNaN(Date.parse(iso)) && new Date(iso).toISOString() === iso;
export function decodeCursor(s: string): Cursor | null {
  try {
    const parsed = cursorSchema.safeParse(JSON.parse(Buffer.from(s, 'base64url').toString('utf8')));
    return parsed.success && isInstant(parsed.data[0]) ? { createdAt: parsed.data[0], id: parsed.data[1] } : null;
  } catch {
    return null;
  }
}
