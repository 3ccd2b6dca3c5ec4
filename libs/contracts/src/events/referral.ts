import { z } from 'zod';
import { defineEvent } from '../registry';
import { Topics } from '../topics';
import { nhsNumberSchema, odsCodeSchema } from '../identifiers';

export const teamRefSchema = z.object({
  ods: odsCodeSchema.describe('ODS code of the organisation or site the team belongs to'),
  name: z.string().min(1).max(200),
});

export const contactChannelSchema = z.enum(['email', 'sms', 'letter']);

export const patientDetailsSchema = z.object({
  nhsNumber: nhsNumberSchema,
  name: z.string().min(1).max(200),
  email: z.email().optional(),
  phone: z.string().regex(/^\+?[0-9 ]{7,20}$/).optional(),
  preferredChannel: contactChannelSchema,
});

export const ReferralRequested = defineEvent({
  type: 'referral.requested.v1',
  topic: Topics.referralEvents,
  description:
    'A GP recorded a patient\'s request for a second opinion. Carries the patient details the notification and audit services need.',
  schema: z.object({
    referralId: z.uuid(),
    referringPractice: odsCodeSchema,
    originalTeam: teamRefSchema,
    specialty: z.string().min(1).max(100),
    urgency: z.enum(['routine', 'urgent']),
    reason: z.string().min(1).max(4000),
    explainedByOriginalTeam: z.boolean(),
    patient: patientDetailsSchema,
    requestedAt: z.iso.datetime({ offset: false }),
  }),
});
export type ReferralRequestedData = z.infer<typeof ReferralRequested.schema>;
