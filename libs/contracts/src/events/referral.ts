import { z } from 'zod';
import { defineEvent } from '../registry';
import { Topics } from '../topics';
import { nhsNumberSchema, odsCodeSchema } from '../identifiers';

export const teamRefSchema = z.object({
  ods: odsCodeSchema.describe('ODS code of the organisation or site the team belongs to'),
  name: z.string().min(1).max(200),
  teamId: z.string().min(1).max(64).optional().describe('the team in the directory'),
  siteName: z.string().max(200).optional().describe('the hospital site where the team works (rule 7)'),
  contactEmail: z.email().optional().describe('where the team is told things (from the directory)'),
});

export const contactChannelSchema = z.enum(['email', 'sms', 'letter']);
export type ContactChannel = z.infer<typeof contactChannelSchema>;

/** urgent: a serious condition needing urgent treatment (rule 10). */
export const urgencySchema = z.enum(['routine', 'urgent']);
export type Urgency = z.infer<typeof urgencySchema>;

export const patientDetailsSchema = z.object({
  nhsNumber: nhsNumberSchema,
  name: z.string().min(1).max(200),
  email: z.email().optional(),
  phone: z
    .string()
    .regex(/^\+?[0-9 ]{7,20}$/)
    .optional(),
  preferredChannel: contactChannelSchema,
});

export const ReferralRequested = defineEvent({
  type: 'referral.requested.v1',
  topic: Topics.referralEvents,
  description:
    "A GP recorded a patient's request for a second opinion. Carries the patient details the notification and audit services need.",
  schema: z.object({
    referralId: z.uuid().describe('the referral (also the Kafka key and ce_subject)'),
    referringPractice: odsCodeSchema.describe('ODS code of the GP practice that records the request'),
    referringPracticeEmail: z.email().optional().describe('where the practice is told things (from the directory)'),
    originalTeam: teamRefSchema.describe('the clinical team that gave the first opinion'),
    specialty: z.string().min(1).max(100).describe('the specialty the second opinion is sought in'),
    urgency: urgencySchema.describe('urgent: a serious condition needing urgent treatment (rule 10)'),
    reason: z.string().min(1).max(4000).describe('why the patient asks for a second opinion'),
    explainedByOriginalTeam: z.boolean().describe('whether the first team went over the diagnosis first (rule 2; never required)'),
    patient: patientDetailsSchema.describe('NHS number, name and contact details: for notification and audit only, never logged'),
    requestedAt: z.iso.datetime({ offset: false }).describe('when the GP recorded the request (UTC)'),
  }),
});
export type ReferralRequestedData = z.infer<typeof ReferralRequested.schema>;
