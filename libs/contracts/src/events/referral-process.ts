import { z } from 'zod';
import { defineEvent } from '../registry';
import { Topics } from '../topics';
import { odsCodeSchema } from '../identifiers';
import { teamRefSchema, urgencySchema } from './referral';

/** Who acted: role and organisation, never a person's name (people are in the audit log's access events). */
export const actorSchema = z
  .object({
    role: z.enum(['patient', 'gp', 'clinician', 'ops', 'system']),
    organisation: odsCodeSchema.optional(),
  })
  .describe('who acted (role and organisation)');
export type Actor = z.infer<typeof actorSchema>;

/** Rule 11: every message that ends a path tells the patient how to reach PALS. */
export const palsContactSchema = z
  .object({
    name: z.string(),
    phone: z.string(),
    email: z.email(),
    url: z.url(),
  })
  .describe('how the patient reaches the Patient Advice and Liaison Service');
export type PalsContact = z.infer<typeof palsContactSchema>;

const referralId = z.uuid().describe('the referral');
const iso = z.iso.datetime({ offset: false });
const freeText = (max: number) => z.string().trim().min(1).max(max);

/** Rule 8: the second opinion may be the same as the first. */
export const opinionOutcomeSchema = z.enum(['concurs', 'differs', 'partially-differs']);
export type OpinionOutcome = z.infer<typeof opinionOutcomeSchema>;
/** The steps with a due date, of which the GP or the receiving team is reminded. */
export const reminderStepSchema = z.enum(['gp-decision', 'triage', 'more-info', 'booking', 'opinion']);
export type ReminderStep = z.infer<typeof reminderStepSchema>;
/** Who is reminded of a step. */
export const reminderRecipientSchema = z.enum(['gp', 'receiving-team']);
export type ReminderRecipient = z.infer<typeof reminderRecipientSchema>;
/** How a referral's process ended. */
export const closedOutcomeSchema = z.enum(['opinion-given', 'care-transferred', 'care-retained']);
export type ClosedOutcome = z.infer<typeof closedOutcomeSchema>;

const event = <S extends z.ZodType, const T extends string>(type: T, description: string, schema: S) =>
  defineEvent({ type, topic: Topics.referralEvents, description, schema });

export const ReferralGpDeclined = event(
  'referral.gp-declined.v1',
  'The GP decided not to refer (rule 1). The patient is told why and how to reach PALS.',
  z.object({
    referralId,
    reason: freeText(2000).describe('why the GP declined; told to the patient'),
    declinedBy: actorSchema,
    pals: palsContactSchema,
    nextSteps: z.string().describe('what the patient can do now'),
  }),
);

export const ReferralReferred = event(
  'referral.referred.v1',
  'The GP referred the patient to a different clinical team for a second opinion (rule 3), as a new referral.',
  z.object({
    referralId,
    secondOpinion: z.literal(true).describe('always true: the receiving team is told it is a second opinion'),
    referringPractice: odsCodeSchema,
    originalTeam: teamRefSchema,
    targetTeam: teamRefSchema.describe('the team asked for the second opinion'),
    specialty: z.string(),
    urgency: urgencySchema,
    distanceKm: z.number().nonnegative().optional().describe("from the patient's practice to the team's site (rule 7)"),
    triageDueAt: iso.describe('when the receiving team should have triaged it'),
    attempt: z.number().int().positive().describe('1 for the first team, 2 after one team rejected it, ...'),
  }),
);

export const ReferralTriageAccepted = event(
  'referral.triage-accepted.v1',
  'The receiving team accepted the referral after triage (rule 6).',
  z.object({ referralId, team: teamRefSchema, bookingDueAt: iso }),
);

export const ReferralTriageRejected = event(
  'referral.triage-rejected.v1',
  'The receiving team rejected the referral (rule 6). It goes back to the GP, who may choose another team; the patient is told, with PALS contact.',
  z.object({
    referralId,
    team: teamRefSchema,
    reason: freeText(2000),
    pals: palsContactSchema,
    nextSteps: z.string(),
  }),
);

export const ReferralMoreInfoRequested = event(
  'referral.more-info-requested.v1',
  'The receiving team needs more information from the GP before it can triage.',
  z.object({ referralId, team: teamRefSchema, question: freeText(4000), dueAt: iso }),
);

export const ReferralMoreInfoProvided = event(
  'referral.more-info-provided.v1',
  'The GP answered the receiving team; triage resumes.',
  z.object({ referralId, answer: freeText(8000), triageDueAt: iso }),
);

export const ReferralAppointmentBooked = event(
  'referral.appointment-booked.v1',
  "The receiving team booked the patient's appointment.",
  z.object({
    referralId,
    team: teamRefSchema,
    appointmentAt: iso,
    site: z.object({ ods: odsCodeSchema, name: z.string() }).describe('where (may be another hospital, rule 7)'),
  }),
);

export const ReferralOpinionIssued = event(
  'referral.opinion-issued.v1',
  'The receiving team gave its opinion (rule 8): it may be the same as the first. Shared with the patient and GP, and with the original team if the patient agreed.',
  z.object({
    referralId,
    team: teamRefSchema,
    outcome: opinionOutcomeSchema,
    summary: freeText(8000),
    shareWithOriginalTeam: z.boolean(),
    originalTeam: teamRefSchema,
  }),
);

export const ReferralOriginalTeamInformed = event(
  'referral.original-team-informed.v1',
  "At the patient's choice, the original team is told a second opinion is under way (rule 9).",
  z.object({ referralId, originalTeam: teamRefSchema, requestedBy: actorSchema }),
);

export const ReferralCareTransferRequested = event(
  'referral.care-transfer-requested.v1',
  'The patient asked to be treated by the new team (rule 5: a separate, explicit arrangement).',
  z.object({ referralId, requestedBy: actorSchema, team: teamRefSchema }),
);

export const ReferralCareTransferred = event(
  'referral.care-transferred.v1',
  'The new team and its hospital agreed to take over care: it is now responsible (rule 5).',
  z.object({ referralId, responsibleTeam: teamRefSchema, previousTeam: teamRefSchema }),
);

export const ReferralCareRetained = event(
  'referral.care-retained.v1',
  'The new team did not take over care; the original team stays responsible (rule 5).',
  z.object({ referralId, responsibleTeam: teamRefSchema, reason: freeText(2000), pals: palsContactSchema }),
);

export const ReferralWithdrawn = event(
  'referral.withdrawn.v1',
  'The patient (or the GP for them) withdrew the request. Timers stop; any records transfer is cancelled; the patient is told how to reach PALS.',
  z.object({
    referralId,
    withdrawnBy: actorSchema,
    reason: z.string().max(2000).optional(),
    fromState: z.string(),
    pals: palsContactSchema,
  }),
);

export const ReferralUrgentWaitEscalated = event(
  'referral.urgent-wait-escalated.v1',
  'An urgent referral has no appointment within its clinical threshold (rule 10): the original team and the GP are asked to consider whether delay ' +
    'could harm the patient; treatment need not wait for the second opinion.',
  z.object({
    referralId,
    waitedDays: z.number().nonnegative(),
    thresholdDays: z.number().positive(),
    originalTeam: teamRefSchema,
    referringPractice: odsCodeSchema,
    message: z.string(),
  }),
);

export const ReferralReminderDue = event(
  'referral.reminder-due.v1',
  'A step is coming due (or is overdue): the GP or the receiving team is reminded.',
  z.object({
    referralId,
    step: reminderStepSchema,
    dueAt: iso,
    overdue: z.boolean(),
    recipientRole: reminderRecipientSchema,
  }),
);

export const ReferralClosed = event(
  'referral.closed.v1',
  "The referral's process has ended.",
  z.object({
    referralId,
    outcome: closedOutcomeSchema,
    responsibleTeam: teamRefSchema,
  }),
);

export const referralProcessEvents = [
  ReferralGpDeclined,
  ReferralReferred,
  ReferralTriageAccepted,
  ReferralTriageRejected,
  ReferralMoreInfoRequested,
  ReferralMoreInfoProvided,
  ReferralAppointmentBooked,
  ReferralOpinionIssued,
  ReferralOriginalTeamInformed,
  ReferralCareTransferRequested,
  ReferralCareTransferred,
  ReferralCareRetained,
  ReferralWithdrawn,
  ReferralUrgentWaitEscalated,
  ReferralReminderDue,
  ReferralClosed,
] as const;
