import { z } from 'zod';

// Request bodies of the decision endpoints, validated when built. Free text is bounded; nothing else is accepted.
const text = (max: number) => z.string().trim().min(1).max(max);

export const gpDecisionSchema = z.discriminatedUnion('decision', [
  z.object({ decision: z.literal('refer'), targetTeamId: text(64).describe('the new clinical team (directory id)') }).strict(),
  z.object({ decision: z.literal('decline'), reason: text(2000).describe('told to the patient (rule 1)') }).strict(),
]);

export const triageSchema = z.discriminatedUnion('decision', [
  z.object({ decision: z.literal('accept') }).strict(),
  z.object({ decision: z.literal('reject'), reason: text(2000) }).strict(),
  z.object({ decision: z.literal('request-info'), question: text(4000) }).strict(),
]);

export const moreInfoSchema = z.object({ answer: text(8000) }).strict();

export const appointmentSchema = z
  .object({
    appointmentAt: z.iso.datetime({ offset: false }).describe('UTC'),
    /** Defaults to the receiving team's own site; the appointment may be at another of its trust's sites. */
    siteOds: z.string().trim().toUpperCase().regex(/^[A-Z0-9]{3,10}$/).optional(),
  })
  .strict();

export const opinionSchema = z
  .object({
    outcome: z.enum(['concurs', 'differs', 'partially-differs']).describe('rule 8: the opinion may be the same as the first'),
    summary: text(8000),
    shareWithOriginalTeam: z.boolean().default(false).describe('only with the patient\'s agreement'),
  })
  .strict();

export const emptySchema = z.object({}).strict();

export const careTransferDecisionSchema = z.discriminatedUnion('decision', [
  z.object({ decision: z.literal('accept') }).strict(),
  z.object({ decision: z.literal('retain'), reason: text(2000) }).strict(),
]);

export const withdrawSchema = z.object({ reason: z.string().trim().max(2000).optional() }).strict();
