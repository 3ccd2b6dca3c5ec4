import { z } from 'zod';
import { opinionOutcomeSchema } from '@sonet/contracts';

// Request bodies of the decision endpoints, validated when built. Free text is bounded; nothing else is accepted.
const text = (max: number) => z.string().trim().min(1).max(max);

export const gpDecisionSchema = z.discriminatedUnion('decision', [
  z
    .object({
      decision: z.literal('refer'),
      targetTeamId: text(64).describe('the new clinical team (directory id)'),
      /** The GP's recorded choice to refer to a team of another specialty (recorded in the timeline). */
      specialtyMismatchReason: text(400).optional().describe("required when the team's specialty is not the referral's"),
    })
    .strict(),
  z.object({ decision: z.literal('decline'), reason: text(2000).describe('told to the patient (rule 1)') }).strict(),
]);

export const triageSchema = z.discriminatedUnion('decision', [
  z.object({ decision: z.literal('accept') }).strict(),
  z.object({ decision: z.literal('reject'), reason: text(2000) }).strict(),
  z.object({ decision: z.literal('request-info'), question: text(4000) }).strict(),
]);

export const moreInfoSchema = z.object({ answer: text(8000) }).strict();

/**
 * How far in the past an appointment time may be and still be booked: the clock skew between the booking system
 * and this service, not a way to record appointments that have happened.
 */
export const APPOINTMENT_CLOCK_SKEW_MS = 5 * 60_000;

/** Whether a booked (or rebooked) appointment time is in the future, allowing for clock skew. */
export const isBookable = (appointmentAt: string, now = new Date()): boolean =>
  Date.parse(appointmentAt) >= now.getTime() - APPOINTMENT_CLOCK_SKEW_MS;

/** Specialties compare as the directory's slugs: case, spaces and hyphens aside ("Respiratory medicine" = respiratory-medicine). */
export const sameSpecialty = (a: string, b: string): boolean => {
  const slug = (s: string) =>
    s
      .trim()
      .toLowerCase()
      .replace(/[\s_-]+/g, '-');
  return slug(a) === slug(b);
};

export const appointmentSchema = z
  .object({
    appointmentAt: z.iso.datetime({ offset: false }).describe('UTC'),
    /** Defaults to the receiving team's own site; the appointment may be at another of its trust's sites. */
    siteOds: z
      .string()
      .trim()
      .toUpperCase()
      .regex(/^[A-Z0-9]{3,10}$/)
      .optional(),
  })
  .strict();

export const opinionSchema = z
  .object({
    outcome: opinionOutcomeSchema.describe('rule 8: the opinion may be the same as the first'),
    summary: text(8000),
    shareWithOriginalTeam: z.boolean().default(false).describe("only with the patient's agreement"),
  })
  .strict();

export const emptySchema = z.object({}).strict();

export const careTransferDecisionSchema = z.discriminatedUnion('decision', [
  z.object({ decision: z.literal('accept') }).strict(),
  z.object({ decision: z.literal('retain'), reason: text(2000) }).strict(),
]);

export const withdrawSchema = z.object({ reason: z.string().trim().max(2000).optional() }).strict();
