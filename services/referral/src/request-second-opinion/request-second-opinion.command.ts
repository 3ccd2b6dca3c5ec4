import { z } from 'zod';
import { patientDetailsSchema, urgencySchema } from '@sonet/contracts';

/**
 * A GP records a patient's request for a second opinion (rule 3: it is a new referral, made by the GP).
 * Validated when built, whatever transport it came from.
 */
export const requestSecondOpinionSchema = z
  .object({
    patient: patientDetailsSchema,
    originalTeamId: z.string().trim().min(1).max(64).describe('the clinical team that gave the first opinion (directory id)'),
    specialty: z.string().trim().min(1).max(100),
    reason: z.string().trim().min(1).max(4000),
    urgency: urgencySchema.default('routine'),
    /** Rule 2: recorded, never required. */
    explainedByOriginalTeam: z.boolean().default(false),
    /** Rule 4: results and imaging are sent only with the patient's recorded consent. */
    recordsSharingConsent: z.boolean(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.patient.preferredChannel === 'email' && !v.patient.email) {
      ctx.addIssue({ code: 'custom', path: ['patient', 'email'], message: 'required when the preferred channel is email' });
    }
    if (v.patient.preferredChannel === 'sms' && !v.patient.phone) {
      ctx.addIssue({ code: 'custom', path: ['patient', 'phone'], message: 'required when the preferred channel is sms' });
    }
  });

/** The request plus who makes it: the referring practice is the caller's organisation, never a body field. */
export type RequestSecondOpinionCommand = z.output<typeof requestSecondOpinionSchema> & { readonly referringPractice: string };
