import { z } from 'zod';
import { defineEvent } from '../registry';
import { Topics } from '../topics';
import { nhsNumberSchema, odsCodeSchema } from '../identifiers';
import { sealed } from '../sealed';

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

/** A UK mobile number in E.164 (+447…): requests are normalised to this form before the event is written. */
export const ukMobileE164Schema = z.string().regex(/^\+447\d{9}$/, 'a UK mobile number in E.164 form (+447…)');

/** The shape of a UK postcode (outward code, space, inward code), upper case, e.g. `LS1 4AP`. */
export const ukPostcodeSchema = z
  .string()
  .regex(/^(GIR 0AA|[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2})$/, 'a UK postcode (outward code, space, inward code)');

export const postalAddressSchema = z
  .object({
    /** Lines before the postcode (house and street, town…); the name is added by whoever prints the letter. */
    lines: z.array(z.string().trim().min(1).max(100)).min(2).max(5),
    postcode: ukPostcodeSchema,
  })
  .describe('a UK postal address for letters');
export type PostalAddress = z.infer<typeof postalAddressSchema>;

/**
 * Optional fields only are ever added here (events written before them stay valid): `mobile`, `address` and
 * `contactPreferences` came with SMS and letters (issue 11). `preferredChannel` stays, and is always the first
 * of `contactPreferences` when both are present; `phone` is the older free-form number, read when `mobile` is absent.
 */
export const patientDetailsSchema = z.object({
  nhsNumber: nhsNumberSchema,
  name: z.string().min(1).max(200),
  email: z.email().optional(),
  phone: z
    .string()
    .regex(/^\+?[0-9 ]{7,20}$/)
    .optional(),
  preferredChannel: contactChannelSchema,
  mobile: ukMobileE164Schema.optional().describe('UK mobile number for SMS, E.164'),
  address: postalAddressSchema.optional(),
  contactPreferences: z
    .array(contactChannelSchema)
    .min(1)
    .max(3)
    .refine((cs) => new Set(cs).size === cs.length, 'each channel at most once')
    .optional()
    .describe('the channels the patient agreed to be contacted by, most preferred first'),
});
export type PatientDetails = z.infer<typeof patientDetailsSchema>;

/** What `referral.requested.*` says besides the patient (the same in every version). */
const referralRequestedFields = {
  referralId: z.uuid().describe('the referral (also the Kafka key and ce_subject)'),
  referringPractice: odsCodeSchema.describe('ODS code of the GP practice that records the request'),
  referringPracticeEmail: z.email().optional().describe('where the practice is told things (from the directory)'),
  originalTeam: teamRefSchema.describe('the clinical team that gave the first opinion'),
  specialty: z.string().min(1).max(100).describe('the specialty the second opinion is sought in'),
  urgency: urgencySchema.describe('urgent: a serious condition needing urgent treatment (rule 10)'),
  reason: z.string().min(1).max(4000).describe('why the patient asks for a second opinion'),
  explainedByOriginalTeam: z.boolean().describe('whether the first team went over the diagnosis first (rule 2; never required)'),
  requestedAt: z.iso.datetime({ offset: false }).describe('when the GP recorded the request (UTC)'),
};

/**
 * Superseded by v2 (ADR 14): carried the patient's identifiers in clear. No longer produced; consumers still read
 * it, so events already in the topic (and replays of them) are handled as before.
 */
export const ReferralRequested = defineEvent({
  type: 'referral.requested.v1',
  topic: Topics.referralEvents,
  description:
    "A GP recorded a patient's request for a second opinion. Superseded by referral.requested.v2 (no longer produced): this version carried the patient's details in clear.",
  schema: z.object({
    ...referralRequestedFields,
    patient: patientDetailsSchema.describe('NHS number, name and contact details: for notification and audit only, never logged'),
  }),
});
export type ReferralRequestedData = z.infer<typeof ReferralRequested.schema>;

export const ReferralRequestedV2 = defineEvent({
  type: 'referral.requested.v2',
  topic: Topics.referralEvents,
  description:
    "A GP recorded a patient's request for a second opinion. The patient's details are sealed under the referral's data key (ADR 14): " +
    'notification and audit fetch the key from the referral service to open them; once the key is destroyed (erasure) no copy can be read.',
  schema: z.object({
    ...referralRequestedFields,
    patient: sealed('the patient details of referral.requested.v1 (NHS number, name, contact details, preferred channel)'),
  }),
});
export type ReferralRequestedV2Data = z.infer<typeof ReferralRequestedV2.schema>;

export const ReferralDataKeyDestroyed = defineEvent({
  type: 'referral.data-key-destroyed.v1',
  topic: Topics.referralEvents,
  description:
    "The referral's data key was destroyed (erasure, ADR 14): the sealed patient details of its events, in Kafka and in the audit log, can no longer be read.",
  schema: z.object({
    referralId: z.uuid().describe('the referral'),
    kid: z.string().describe('the destroyed key'),
    destroyedAt: z.iso.datetime({ offset: false }).describe('when (UTC)'),
    destroyedBy: z
      .object({ subject: z.string().min(1).max(200), organisation: odsCodeSchema })
      .describe('the operator who destroyed it (role ops)'),
    basis: z
      .enum(['erasure-request', 'retention', 'other'])
      .describe('why: a recorded erasure request, the end of retention, or another documented reason'),
    reference: z.string().max(100).optional().describe("the operator's ticket or case reference (no personal data)"),
  }),
});
