import { z } from 'zod';
import { REFERRAL_STATES } from '../domain/referral-state';

/** Worklist filters. `view` picks whose list: a GP's practice, a team's triage queue, or the referrals it sent. */
export const listReferralsQuerySchema = z
  .object({
    view: z.enum(['practice', 'receiving', 'original', 'mine', 'all']).optional(),
    state: z
      .string()
      .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
      .pipe(z.array(z.enum(REFERRAL_STATES)).min(1))
      .optional(),
    urgency: z.enum(['routine', 'urgent']).optional(),
    specialty: z.string().trim().toLowerCase().min(1).max(100).optional(),
    overdue: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
    limit: z.coerce.number().int().min(1).max(100).default(25),
    cursor: z.string().max(200).optional(),
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
export function decodeCursor(s: string): Cursor | null {
  try {
    const parsed = cursorSchema.safeParse(JSON.parse(Buffer.from(s, 'base64url').toString('utf8')));
    return parsed.success ? { createdAt: parsed.data[0], id: parsed.data[1] } : null;
  } catch {
    return null;
  }
}
