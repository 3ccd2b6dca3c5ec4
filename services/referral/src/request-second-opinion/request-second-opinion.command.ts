import { z } from 'zod';
import { urgencySchema } from '@sonet/contracts';
import { requestPatientSchema } from './patient-contact';

/**
 * A GP records a patient's request for a second opinion (rule 3: it is a new referral, made by the GP).
 * Validated when built, whatever transport it came from.
 */
export const requestSecondOpinionSchema = z
  .object({
    patient: requestPatientSchema,
    originalTeamId: z.string().trim().min(1).max(64).describe('the clinical team that gave the first opinion (directory id)'),
    specialty: z.string().trim().min(1).max(100),
    reason: z.string().trim().min(1).max(4000),
    urgency: urgencySchema.default('routine'),
    /** Rule 2: recorded, never required. */
    explainedByOriginalTeam: z.boolean().default(false),
    /** Rule 4: results and imaging are sent only with the patient's recorded consent. */
    recordsSharingConsent: z.boolean(),
  })
  .strict();

/** The request plus who makes it: the referring practice is the caller's organisation, never a body field. */
export type RequestSecondOpinionCommand = z.output<typeof requestSecondOpinionSchema> & { readonly referringPractice: string };
