import type { PalsContact as EventPals } from '@sonet/contracts';
import type { ContactDetails } from '../domain/channel';
import { byEmail, patientContactDetails } from '../domain/patient-contact';
import { planNotification, type PlannedNotification, type RecipientRole } from '../domain/planned-notification';
import { resolveTeam, type ReferralContacts, type TeamContact } from '../domain/referral-contacts';
import type { ReferralProcessEvent } from '../domain/referral-process-event';
import { renderRequest, type PalsContact, type TemplateRequest } from '../templates';

/** One person or organisation to tell, how to reach them, and what to tell them. */
export interface Recipient {
  readonly recipientRole: RecipientRole;
  readonly contact: ContactDetails;
  readonly message: TemplateRequest;
}

export interface RoutingDefaults {
  /** PALS contact for patient messages whose event carries none (rule 11). */
  readonly pals: PalsContact;
}

/** The PALS contact the event carries (decided where the path ended), else the configured one. */
const palsOf = (eventPals: EventPals | undefined, defaults: RoutingDefaults): PalsContact =>
  eventPals ? { name: eventPals.name, phone: eventPals.phone, email: eventPals.email, url: eventPals.url } : defaults.pals;

/** The patient along their own channels, in their order; everyone else by email. */
const patientContact = (c: ReferralContacts): ContactDetails => patientContactDetails(c.patient);
const teamContact = (team: TeamContact | undefined): ContactDetails => byEmail(team?.email);

const to = (recipientRole: RecipientRole, contact: ContactDetails, message: TemplateRequest): Recipient => ({
  recipientRole,
  contact,
  message,
});

/** What every routing function gets besides its event: the referral's contacts and how each party is reached. */
interface Routing {
  readonly c: ReferralContacts;
  readonly defaults: RoutingDefaults;
  readonly patient: ContactDetails;
  readonly gp: ContactDetails;
  readonly toPatient: { readonly patientName: string };
  readonly toProfessional: { readonly referralId: string; readonly patientName: string };
}

type EventOf<T extends ReferralProcessEvent['type']> = Extract<ReferralProcessEvent, { type: T }>;

/** One routing function per event type (the type checker makes sure none is missing). */
const ROUTES: { readonly [T in ReferralProcessEvent['type']]: (event: EventOf<T>, routing: Routing) => Recipient[] } = {
  'referral.gp-declined.v1': (event, { defaults, patient, toPatient }) => {
    const d = event.data;
    // Rule 1: the patient is told why, what they can do now, and how to reach PALS.
    return [
      to('patient', patient, {
        template: 'patient-gp-declined',
        data: { ...toPatient, pals: palsOf(d.pals, defaults), reason: d.reason, nextSteps: d.nextSteps },
      }),
    ];
  },
  'referral.referred.v1': (event, { c, defaults, patient, toPatient, toProfessional }) => {
    const d = event.data;
    const target = resolveTeam(d.targetTeam, c.targetTeam);
    const urgent = d.urgency === 'urgent';
    // The original team is not told here: that is the patient's choice (rule 9).
    return [
      to('patient', patient, {
        template: 'patient-referred',
        data: {
          ...toPatient,
          pals: defaults.pals,
          targetTeamName: target.name,
          targetSiteName: d.targetTeam.siteName,
          originalTeamName: d.originalTeam.name,
          specialty: d.specialty,
          urgent,
          distanceKm: d.distanceKm,
          triageDueAt: d.triageDueAt,
          attempt: d.attempt,
        },
      }),
      to('receiving-team', teamContact(target), {
        template: 'receiving-team-new-referral',
        data: {
          ...toProfessional,
          specialty: d.specialty,
          urgent,
          referringPractice: d.referringPractice,
          originalTeamName: d.originalTeam.name,
          triageDueAt: d.triageDueAt,
          attempt: d.attempt,
          distanceKm: d.distanceKm,
        },
      }),
    ];
  },
  'referral.triage-accepted.v1': (event, { c, defaults, patient, gp, toPatient, toProfessional }) => {
    const d = event.data;
    return [
      to('patient', patient, {
        template: 'patient-triage-accepted',
        data: {
          ...toPatient,
          pals: defaults.pals,
          teamName: d.team.name,
          originalTeamName: c.originalTeam.name,
          bookingDueAt: d.bookingDueAt,
        },
      }),
      to('gp', gp, { template: 'gp-triage-accepted', data: { ...toProfessional, teamName: d.team.name, bookingDueAt: d.bookingDueAt } }),
    ];
  },
  'referral.triage-rejected.v1': (event, { c, defaults, patient, gp, toPatient, toProfessional }) => {
    const d = event.data;
    // Rule 6: back to the GP, who may choose another team; rule 11: the patient is told with PALS contact.
    return [
      to('patient', patient, {
        template: 'patient-triage-rejected',
        data: {
          ...toPatient,
          pals: palsOf(d.pals, defaults),
          teamName: d.team.name,
          originalTeamName: c.originalTeam.name,
          reason: d.reason,
          nextSteps: d.nextSteps,
        },
      }),
      to('gp', gp, {
        template: 'gp-triage-rejected',
        data: { ...toProfessional, teamName: d.team.name, originalTeamName: c.originalTeam.name, reason: d.reason },
      }),
    ];
  },
  'referral.more-info-requested.v1': (event, { gp, toProfessional }) => {
    const d = event.data;
    return [
      to('gp', gp, {
        template: 'gp-more-info-requested',
        data: { ...toProfessional, teamName: d.team.name, question: d.question, dueAt: d.dueAt },
      }),
    ];
  },
  'referral.more-info-provided.v1': (event, { c, toProfessional }) => {
    const d = event.data;
    return [
      to('receiving-team', teamContact(c.targetTeam), {
        template: 'receiving-team-more-info-provided',
        data: { ...toProfessional, answer: d.answer, triageDueAt: d.triageDueAt },
      }),
    ];
  },
  'referral.appointment-booked.v1': (event, { defaults, patient, toPatient }) => {
    const d = event.data;
    return [
      to('patient', patient, {
        template: 'patient-appointment-booked',
        data: { ...toPatient, pals: defaults.pals, teamName: d.team.name, siteName: d.site.name, appointmentAt: d.appointmentAt },
      }),
    ];
  },
  'referral.opinion-issued.v1': (event, { c, defaults, patient, gp, toPatient, toProfessional }) => {
    const d = event.data;
    const originalTeam = resolveTeam(d.originalTeam, c.originalTeam);
    const opinion = { outcome: d.outcome, summary: d.summary };
    // Rule 8: the patient and the GP always; the original team only with the patient's agreement.
    return [
      to('patient', patient, {
        template: 'patient-opinion-issued',
        data: {
          ...toPatient,
          ...opinion,
          pals: defaults.pals,
          teamName: d.team.name,
          originalTeamName: originalTeam.name,
          sharedWithOriginalTeam: d.shareWithOriginalTeam,
        },
      }),
      to('gp', gp, {
        template: 'gp-opinion-issued',
        data: {
          ...toProfessional,
          ...opinion,
          teamName: d.team.name,
          originalTeamName: originalTeam.name,
          sharedWithOriginalTeam: d.shareWithOriginalTeam,
        },
      }),
      ...(d.shareWithOriginalTeam
        ? [
            to('original-team', teamContact(originalTeam), {
              template: 'original-team-opinion-issued',
              data: { ...toProfessional, ...opinion, teamName: d.team.name },
            }),
          ]
        : []),
    ];
  },
  'referral.original-team-informed.v1': (event, { c, toProfessional }) => {
    const d = event.data;
    // Rule 9: at the patient's choice, the first team is told a second opinion is under way.
    return [
      to('original-team', teamContact(resolveTeam(d.originalTeam, c.originalTeam)), {
        template: 'original-team-informed',
        data: { ...toProfessional, targetTeamName: c.targetTeam?.name, urgent: c.urgency === 'urgent' },
      }),
    ];
  },
  'referral.care-transfer-requested.v1': (event, { c, toProfessional }) => {
    const d = event.data;
    return [
      to('receiving-team', teamContact(resolveTeam(d.team, c.targetTeam)), {
        template: 'receiving-team-care-transfer-requested',
        data: { ...toProfessional, requestedBy: d.requestedBy.role, originalTeamName: c.originalTeam.name },
      }),
    ];
  },
  'referral.care-transferred.v1': (event, { c, defaults, patient, gp, toPatient, toProfessional }) => {
    const d = event.data;
    const previous = resolveTeam(d.previousTeam, c.originalTeam);
    // Rule 5: the patient, the GP and the team handing over care are all told who is now responsible.
    return [
      to('patient', patient, {
        template: 'patient-care-transferred',
        data: { ...toPatient, pals: defaults.pals, responsibleTeamName: d.responsibleTeam.name, previousTeamName: previous.name },
      }),
      to('gp', gp, {
        template: 'gp-care-transferred',
        data: { ...toProfessional, responsibleTeamName: d.responsibleTeam.name, previousTeamName: previous.name },
      }),
      to('original-team', teamContact(previous), {
        template: 'original-team-care-transferred',
        data: { ...toProfessional, responsibleTeamName: d.responsibleTeam.name },
      }),
    ];
  },
  'referral.care-retained.v1': (event, { c, defaults, patient, gp, toPatient, toProfessional }) => {
    const d = event.data;
    return [
      to('patient', patient, {
        template: 'patient-care-retained',
        data: {
          ...toPatient,
          pals: palsOf(d.pals, defaults),
          responsibleTeamName: d.responsibleTeam.name,
          newTeamName: c.targetTeam?.name,
          reason: d.reason,
        },
      }),
      to('gp', gp, {
        template: 'gp-care-retained',
        data: { ...toProfessional, responsibleTeamName: d.responsibleTeam.name, newTeamName: c.targetTeam?.name, reason: d.reason },
      }),
    ];
  },
  'referral.withdrawn.v1': (event, { c, defaults, patient, gp, toPatient, toProfessional }) => {
    const d = event.data;
    const withdrawnBy = d.withdrawnBy.role;
    return [
      to('patient', patient, {
        template: 'patient-withdrawn',
        data: { ...toPatient, pals: palsOf(d.pals, defaults), withdrawnBy, reason: d.reason, originalTeamName: c.originalTeam.name },
      }),
      to('gp', gp, { template: 'gp-withdrawn', data: { ...toProfessional, withdrawnBy, reason: d.reason } }),
      // The team currently asked (none before the GP referred, nor once it rejected the referral).
      ...(c.targetTeam
        ? [
            to('receiving-team', teamContact(c.targetTeam), {
              template: 'receiving-team-withdrawn',
              data: { ...toProfessional, withdrawnBy },
            }),
          ]
        : []),
      // The first team hears of it only if the patient had chosen to tell them of the second opinion (rule 9).
      ...(c.originalTeamInformed
        ? [
            to('original-team', teamContact(c.originalTeam), {
              template: 'original-team-withdrawn',
              data: { ...toProfessional, withdrawnBy },
            }),
          ]
        : []),
    ];
  },
  'referral.urgent-wait-escalated.v1': (event, { c, gp, toProfessional }) => {
    const d = event.data;
    const originalTeam = resolveTeam(d.originalTeam, c.originalTeam);
    const data = {
      ...toProfessional,
      waitedDays: d.waitedDays,
      thresholdDays: d.thresholdDays,
      message: d.message,
      originalTeamName: originalTeam.name,
      targetTeamName: c.targetTeam?.name,
    };
    // Rule 10: the original team and the GP consider whether delay could harm the patient.
    return [
      to('gp', gp, { template: 'gp-urgent-wait-escalated', data }),
      to('original-team', teamContact(originalTeam), { template: 'original-team-urgent-wait-escalated', data }),
    ];
  },
  'referral.reminder-due.v1': (event, { c, gp, toProfessional }) => {
    const d = event.data;
    const reminder = { ...toProfessional, step: d.step, dueAt: d.dueAt, overdue: d.overdue };
    return d.recipientRole === 'gp'
      ? [to('gp', gp, { template: 'gp-reminder', data: reminder })]
      : [to('receiving-team', teamContact(c.targetTeam), { template: 'receiving-team-reminder', data: reminder })];
  },
  'referral.closed.v1': (event, { gp, toProfessional }) => {
    const d = event.data;
    return [
      to('gp', gp, {
        template: 'gp-referral-closed',
        data: { ...toProfessional, outcome: d.outcome, responsibleTeamName: d.responsibleTeam.name },
      }),
    ];
  },
};

/**
 * Who is told what about a referral event (DOMAIN rules 1, 5, 6, 8, 9, 10, 11), decided from the event and
 * the referral's contacts as they were before it. Pure: no I/O, no clock. Recipients come in a fixed order:
 * patient, GP, receiving team, original team. An event with no one to tell gives an empty list.
 */
export function decideRecipients(event: ReferralProcessEvent, c: ReferralContacts, defaults: RoutingDefaults): Recipient[] {
  const routing: Routing = {
    c,
    defaults,
    patient: patientContact(c),
    gp: byEmail(c.gp.email),
    toPatient: { patientName: c.patient.name },
    toProfessional: { referralId: c.referralId, patientName: c.patient.name },
  };
  // The map pairs each type with its own event; TypeScript cannot follow that through the lookup.
  const route = ROUTES[event.type] as (e: ReferralProcessEvent, r: Routing) => Recipient[];
  return route(event, routing);
}

/** The PALS phone a patient message carries (for its text message version). */
const palsPhoneOf = (message: TemplateRequest): string | undefined =>
  'pals' in message.data ? (message.data as { pals?: PalsContact }).pals?.phone : undefined;

/** The notifications to record for an event: one per recipient, rendered now, ids derived from (event, role, template). */
export function planReferralProgress(
  event: ReferralProcessEvent,
  contacts: ReferralContacts,
  defaults: RoutingDefaults,
): PlannedNotification[] {
  return decideRecipients(event, contacts, defaults).map((r) =>
    planNotification({
      event,
      referralId: event.data.referralId,
      recipientRole: r.recipientRole,
      contact: r.contact,
      template: r.message.template,
      rendered: renderRequest(r.message),
      palsPhone: palsPhoneOf(r.message),
    }),
  );
}
