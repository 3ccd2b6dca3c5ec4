// The transition catalogue, activity half: for each action of ../workflows/transitions.ts (the same keys, all of
// them: the compiler checks), the event it emits with its payload, the timeline summary and the read-model
// patch. Each entry's event definition must carry the event type the workflow half names for it.
// recordTransition (./referral.activities.ts) applies an entry in one transaction. Recipe: docs/adding-a-decision.md.
import {
  ReferralAppointmentBooked,
  ReferralCareRetained,
  ReferralCareTransferRequested,
  ReferralCareTransferred,
  ReferralClosed,
  ReferralGpDeclined,
  ReferralMoreInfoProvided,
  ReferralMoreInfoRequested,
  ReferralOpinionIssued,
  ReferralOriginalTeamInformed,
  ReferralReferred,
  ReferralTriageAccepted,
  ReferralTriageRejected,
  ReferralWithdrawn,
  type PalsContact,
} from '@sonet/contracts';
import type { Referral } from '../domain/entities';
import type { TransitionRecord } from '../workflows/definitions';
import type { ActionOf, EventTypeOf, TransitionAction, TransitionType } from '../workflows/transitions';
import { actorOf, emission, originalTeam, targetTeam, type Emission } from './record-step';

/** What an entry sees: the action, the referral as it was before the transition, the record the workflow sent. */
export interface TransitionInput<K extends TransitionType> {
  readonly action: ActionOf<K>;
  readonly referral: Referral;
  readonly record: TransitionRecord;
  readonly pals: PalsContact;
}

export interface TransitionEffects<K extends TransitionType> {
  /** The event, built with `emission(Definition, payload)`: the payload is checked against the definition's schema. */
  readonly event: (x: TransitionInput<K>) => Emission<EventTypeOf<K>>;
  /** The timeline entry's text, shown to the parties. */
  readonly summary: (x: TransitionInput<K>) => string;
  /** Read-model columns this transition sets, besides state, revision, due time and closedAt (set for every transition). */
  readonly patch?: (ref: Referral, x: TransitionInput<K>, at: Date) => void;
}

const dueOr = (rec: TransitionRecord) => rec.dueAt ?? new Date().toISOString();

const OPINION_WORDS = {
  concurs: 'the same as the first',
  differs: 'different from the first',
  'partially-differs': 'partly different from the first',
} as const;

export const TRANSITION_EFFECTS = {
  refer: {
    event: ({ action: { targetTeam: t }, referral: r, record: rec }) =>
      emission(ReferralReferred, {
        referralId: r.id,
        secondOpinion: true,
        referringPractice: r.referringPractice,
        originalTeam: originalTeam(r),
        targetTeam: {
          ods: t.ods,
          name: t.name,
          teamId: t.teamId,
          siteName: t.siteName,
          ...(t.contactEmail ? { contactEmail: t.contactEmail } : {}),
        },
        specialty: r.specialty,
        urgency: r.urgency,
        ...(t.distanceKm !== undefined ? { distanceKm: t.distanceKm } : {}),
        triageDueAt: dueOr(rec),
        attempt: rec.attempt,
      }),
    summary: ({ action: { targetTeam: t } }) => `Referred to ${t.name} (${t.siteName}) for a second opinion; waiting for triage.`,
    patch: (ref, { action: { targetTeam: t }, record }) => {
      ref.targetTeamId = t.teamId;
      ref.targetTeamOds = t.ods;
      ref.targetTeamName = t.name;
      ref.targetTeamEmail = t.contactEmail ?? null;
      ref.targetSiteName = t.siteName;
      ref.distanceKm = t.distanceKm ?? null;
      ref.attempt = record.attempt;
    },
  },
  decline: {
    event: ({ action: a, referral: r, record, pals }) =>
      emission(ReferralGpDeclined, {
        referralId: r.id,
        reason: a.reason,
        declinedBy: actorOf(record),
        pals,
        nextSteps:
          'You can talk to your GP again about your concerns, ask your clinical team to go over your diagnosis, or contact PALS for advice and support.',
      }),
    summary: () => 'The GP decided not to refer; the patient is told why and how to reach PALS.',
  },
  'triage-accept': {
    event: ({ referral: r, record }) =>
      emission(ReferralTriageAccepted, { referralId: r.id, team: targetTeam(r), bookingDueAt: dueOr(record) }),
    summary: ({ referral: r }) => `${targetTeam(r).name} accepted the referral; an appointment will be booked.`,
  },
  'triage-reject': {
    event: ({ action: a, referral: r, pals }) =>
      emission(ReferralTriageRejected, {
        referralId: r.id,
        team: targetTeam(r),
        reason: a.reason,
        pals,
        nextSteps: 'Your GP can refer you to another clinical team for a second opinion.',
      }),
    summary: ({ referral: r }) => `${targetTeam(r).name} did not accept the referral; the GP may choose another team.`,
  },
  'request-info': {
    event: ({ action: a, referral: r, record }) =>
      emission(ReferralMoreInfoRequested, { referralId: r.id, team: targetTeam(r), question: a.question, dueAt: dueOr(record) }),
    summary: ({ referral: r }) => `${targetTeam(r).name} asked the GP for more information before triage.`,
  },
  'provide-info': {
    event: ({ action: a, referral: r, record }) =>
      emission(ReferralMoreInfoProvided, { referralId: r.id, answer: a.answer, triageDueAt: dueOr(record) }),
    summary: () => 'The GP sent the information asked for; triage resumes.',
  },
  'issue-opinion': {
    event: ({ action: a, referral: r }) =>
      emission(ReferralOpinionIssued, {
        referralId: r.id,
        team: targetTeam(r),
        outcome: a.outcome,
        summary: a.summary,
        shareWithOriginalTeam: a.shareWithOriginalTeam,
        originalTeam: originalTeam(r),
      }),
    summary: ({ action: a }) => `Second opinion given: ${OPINION_WORDS[a.outcome]}.`,
    patch: (ref, { action: a }) => {
      ref.opinionOutcome = a.outcome;
    },
  },
  'book-appointment': {
    event: ({ action: a, referral: r }) =>
      emission(ReferralAppointmentBooked, { referralId: r.id, team: targetTeam(r), appointmentAt: a.appointmentAt, site: a.site }),
    summary: ({ action: a }) => `Appointment booked at ${a.site.name}.`,
    patch: (ref, { action: a }) => {
      ref.appointmentAt = new Date(a.appointmentAt);
      ref.appointmentSiteOds = a.site.ods;
      ref.appointmentSiteName = a.site.name;
    },
  },
  'request-care-transfer': {
    event: ({ referral: r, record }) =>
      emission(ReferralCareTransferRequested, { referralId: r.id, requestedBy: actorOf(record), team: targetTeam(r) }),
    summary: () => 'The patient asked to be treated by the new team; the team and its hospital will decide.',
  },
  'care-transfer-decision': {
    event: ({ action: a, referral: r, pals }) =>
      a.accept
        ? emission(ReferralCareTransferred, { referralId: r.id, responsibleTeam: targetTeam(r), previousTeam: originalTeam(r) })
        : emission(ReferralCareRetained, {
            referralId: r.id,
            responsibleTeam: originalTeam(r),
            reason: a.reason ?? 'No reason given.',
            pals,
          }),
    summary: ({ action: a, referral: r }) =>
      a.accept
        ? `${targetTeam(r).name} took over the patient's care.`
        : 'The new team did not take over care; the original team stays responsible.',
    patch: (ref, { action: a }) => {
      if (a.accept) ref.responsibleTeamOds = ref.targetTeamOds ?? ref.responsibleTeamOds;
    },
  },
  'inform-original-team': {
    event: ({ referral: r, record }) =>
      emission(ReferralOriginalTeamInformed, { referralId: r.id, originalTeam: originalTeam(r), requestedBy: actorOf(record) }),
    summary: () => "The original clinical team was told, at the patient's choice, that a second opinion is under way.",
    patch: (ref, _x, at) => {
      ref.originalTeamInformedAt = at;
    },
  },
  withdraw: {
    event: ({ action: a, referral: r, record, pals }) =>
      emission(ReferralWithdrawn, {
        referralId: r.id,
        withdrawnBy: actorOf(record),
        ...(a.reason ? { reason: a.reason } : {}),
        fromState: record.fromState,
        pals,
      }),
    summary: () => 'The request for a second opinion was withdrawn.',
  },
  close: {
    event: ({ action: a, referral: r }) =>
      emission(ReferralClosed, {
        referralId: r.id,
        outcome: a.outcome,
        responsibleTeam: r.responsibleTeamOds === r.originalTeamOds ? originalTeam(r) : targetTeam(r),
      }),
    summary: () => 'The second-opinion process has ended.',
  },
} satisfies { readonly [K in TransitionType]: TransitionEffects<K> };

/** An entry seen through any action: sound because an entry is only ever given actions of its own type. */
export const effectsOf = (action: TransitionAction) => TRANSITION_EFFECTS[action.type] as TransitionEffects<TransitionType>;
