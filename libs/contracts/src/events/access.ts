import { z } from 'zod';
import { defineEvent } from '../registry';
import { Topics } from '../topics';
import { odsCodeSchema } from '../identifiers';

/**
 * The roles of the network (docs/domain.md#who-takes-part-roles); tokens carry one, and access events say which one
 * read what. `system`: one of the network's own services (a service token), e.g. reading a referral's data key.
 */
export const actorRoleSchema = z.enum(['patient', 'gp', 'clinician', 'ops', 'auditor', 'pals', 'system']);
export type ActorRole = z.infer<typeof actorRoleSchema>;

/** Why patient data was read (purpose of use; maps onto HL7 v3 ActReason in the FHIR export). */
export const accessPurposeSchema = z.enum(['direct-care', 'patient-request', 'operations', 'audit', 'complaint']);
export type AccessPurpose = z.infer<typeof accessPurposeSchema>;

export const AccessRecorded = defineEvent({
  type: 'access.recorded.v1',
  topic: Topics.accessEvents,
  description:
    "Someone read a referral's patient data (a referral, its transfer manifest, its notifications, its audit trail). Carries who, in which role and " +
    'organisation, why and what; no patient identifier: the referral id leads to the patient inside the audit service.',
  schema: z.object({
    accessId: z.uuid().describe('one per read; also the event id'),
    referralId: z.uuid().describe('the referral whose data was read (also the Kafka key and ce_subject)'),
    actor: z
      .object({
        subject: z.string().min(1).max(200).describe("the token's subject: a person or system id at the identity provider"),
        role: actorRoleSchema,
        organisation: odsCodeSchema.describe("ODS code of the reader's organisation"),
      })
      .describe('who read it'),
    purpose: accessPurposeSchema.describe('why (purpose of use)'),
    resource: z
      .object({
        service: z
          .string()
          .regex(/^[a-z][a-z0-9-]*$/)
          .describe('the service that served the data'),
        kind: z
          .string()
          .regex(/^[a-z][a-z0-9-]*$/)
          .describe('what was read, e.g. referral, transfer-manifest, notification-list, audit-timeline'),
        action: z.enum(['read', 'search', 'export']).describe('a single read, a search that returned it, or an export'),
      })
      .describe('what was read'),
    accessedAt: z.iso.datetime({ offset: false }).describe('when (UTC)'),
  }),
});
export type AccessRecordedData = z.infer<typeof AccessRecorded.schema>;
