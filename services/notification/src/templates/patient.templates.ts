import type { Actor, OpinionOutcome } from '@sonet/contracts';
import { DECISION_LEAD, palsSection, WITHDRAWAL_LEAD, type PalsContact } from './pals';
import type { RenderedMessage } from './rendered-message';
import { dear, distance, notAutomaticallyTakingOverCare, PATIENT_FOOTER, paragraphs, quoted, ukDate, ukDateTime } from './format';

/*
 * Messages to the patient. Their data never holds the NHS number; subjects never hold the name or clinical
 * detail (an email may be seen on a shared device or a lock screen). Every one ends with PALS contact; those
 * that end a path (decline, rejection, withdrawal, care retained) lead into it as the place for concerns (rule 11).
 */

interface ToPatient {
  readonly patientName: string;
  readonly pals: PalsContact;
}

export type { OpinionOutcome };
/** Who acted, as the referral events name them. */
export type ActorRole = Actor['role'];

export interface PatientGpDeclinedData extends ToPatient {
  readonly reason: string;
  readonly nextSteps: string;
}

/** Rule 1: the GP declined; the patient is told why, what they can do and how to reach PALS. */
export function patientGpDeclined(d: PatientGpDeclinedData): RenderedMessage {
  return {
    subject: "Your GP's decision about a second opinion",
    text: paragraphs(
      dear(d.patientName),
      'Your GP practice has looked at your request for a second opinion and has decided not to refer you to another clinical team at this time.',
      ['Why your GP made this decision', '', quoted(d.reason)],
      ['What you can do now', '', d.nextSteps.trim()],
      'You have the right to ask for a second opinion. If you would like to talk about this decision, please contact your GP practice. Your current clinical team is still responsible for your care.',
      palsSection(d.pals, DECISION_LEAD),
      PATIENT_FOOTER,
    ),
  };
}

export interface PatientReferredData extends ToPatient {
  readonly targetTeamName: string;
  /** Where the team works (rule 7: it may be another hospital). */
  readonly targetSiteName?: string | undefined;
  readonly originalTeamName: string;
  readonly specialty: string;
  readonly urgent: boolean;
  readonly distanceKm?: number | undefined;
  readonly triageDueAt: string;
  /** 1 for the first team asked; more after a team could not accept the referral. */
  readonly attempt: number;
}

/** Rules 3, 5, 6 and 7: who the new team is, that it is a new referral, where it may be, and that care does not move. */
export function patientReferred(d: PatientReferredData): RenderedMessage {
  return {
    subject: 'You have been referred for a second opinion',
    text: paragraphs(
      dear(d.patientName),
      'Your GP has referred you to a different clinical team for a second opinion.',
      d.attempt > 1 && 'This is a new referral to another team, because the team your GP referred you to before was not able to accept it.',
      [
        'Your new clinical team',
        '',
        `  Team: ${d.targetTeamName}`,
        ...(d.targetSiteName ? [`  Where: ${d.targetSiteName}`] : []),
        `  Specialty: ${d.specialty}`,
        ...(d.distanceKm !== undefined ? [`  Distance: ${distance(d.distanceKm)} from your GP practice`] : []),
      ],
      [
        'What happens next',
        '',
        `The new team has been told that this is a second opinion. It is a new referral, so they will assess it as they would any new patient ` +
          `referral. They may accept it, ask your GP for more information, or decide that they are not the right team. They aim to decide by ` +
          `${ukDate(d.triageDueAt)}. We will let you know what they decide.`,
        '',
        'With your consent, they will also be sent any relevant test results or X-rays you have already had.',
      ],
      [
        'Things to know',
        '',
        '- The new team may be at a different hospital from the one you usually go to, which may mean more travelling.',
        `- ${notAutomaticallyTakingOverCare(d.originalTeamName)}`,
        '- Their opinion may be the same as the first one.',
        '- While you wait, you may wish to let your current clinical team know that you have asked for a second opinion.',
      ],
      d.urgent
        ? [
            'If your condition is serious',
            '',
            'Your referral has been marked as urgent. Please talk to your current clinical team and ask whether any delay in starting treatment could ' +
              'affect your wellbeing. Treatment does not need to wait for the second opinion.',
          ]
        : [
            'If your condition is serious',
            '',
            'If you have a serious medical condition that needs urgent treatment, please talk to your clinical team and ask whether any delay in starting treatment could affect your wellbeing.',
          ],
      palsSection(d.pals),
      PATIENT_FOOTER,
    ),
  };
}

export interface PatientTriageAcceptedData extends ToPatient {
  readonly teamName: string;
  readonly originalTeamName: string;
  readonly bookingDueAt: string;
}

/** Rule 6: the new team accepted the referral. */
export function patientTriageAccepted(d: PatientTriageAcceptedData): RenderedMessage {
  return {
    subject: 'Your referral for a second opinion has been accepted',
    text: paragraphs(
      dear(d.patientName),
      `${d.teamName} has looked at your referral and accepted it. They will now book an appointment for your second opinion, and aim to do so by ` +
        `${ukDate(d.bookingDueAt)}. We will email you the date, time and place.`,
      notAutomaticallyTakingOverCare(d.originalTeamName),
      palsSection(d.pals),
      PATIENT_FOOTER,
    ),
  };
}

export interface PatientTriageRejectedData extends ToPatient {
  readonly teamName: string;
  readonly originalTeamName: string;
  readonly reason: string;
  readonly nextSteps: string;
}

/** Rules 6 and 11: the team could not accept it; it goes back to the GP, who may choose another team. */
export function patientTriageRejected(d: PatientTriageRejectedData): RenderedMessage {
  return {
    subject: 'Your referral for a second opinion was not accepted',
    text: paragraphs(
      dear(d.patientName),
      `${d.teamName} has looked at your referral for a second opinion and is not able to accept it.`,
      ['Their reason', '', quoted(d.reason)],
      [
        'What happens next',
        '',
        'Your referral has gone back to your GP. Your GP may choose to refer you to another clinical team for a second opinion, and will talk to you about it.',
        ...(d.nextSteps.trim() ? ['', d.nextSteps.trim()] : []),
      ],
      `Your current clinical team (${d.originalTeamName}) is still responsible for your care.`,
      palsSection(d.pals, DECISION_LEAD),
      PATIENT_FOOTER,
    ),
  };
}

export interface PatientAppointmentBookedData extends ToPatient {
  readonly teamName: string;
  readonly siteName: string;
  readonly appointmentAt: string;
}

/** The appointment, in UK local time with the date spelled out, and where it is (rule 7: may be elsewhere). */
export function patientAppointmentBooked(d: PatientAppointmentBookedData): RenderedMessage {
  return {
    subject: 'Your second opinion appointment',
    text: paragraphs(
      dear(d.patientName),
      'Your appointment for a second opinion has been booked.',
      [`  When: ${ukDateTime(d.appointmentAt)}`, `  Where: ${d.siteName}`, `  Clinical team: ${d.teamName}`],
      'This may be at a different hospital from the one you usually go to, so please allow time for travelling. If you cannot go, please contact the ' +
        'hospital as soon as you can, so that the appointment can be given to someone else and a new one arranged for you.',
      palsSection(d.pals),
      PATIENT_FOOTER,
    ),
  };
}

export interface PatientOpinionIssuedData extends ToPatient {
  readonly teamName: string;
  readonly originalTeamName: string;
  readonly outcome: OpinionOutcome;
  readonly summary: string;
  readonly sharedWithOriginalTeam: boolean;
}

export const outcomeSentence: Record<OpinionOutcome, string> = {
  concurs: 'Their opinion is the same as the first opinion you were given.',
  differs: 'Their opinion is different from the first opinion you were given.',
  'partially-differs': 'Their opinion agrees with the first opinion you were given in some ways and differs in others.',
};

/** Rule 8: the opinion (which may be the same as the first), shared with the patient. */
export function patientOpinionIssued(d: PatientOpinionIssuedData): RenderedMessage {
  return {
    subject: 'Your second opinion',
    text: paragraphs(
      dear(d.patientName),
      `${d.teamName} has given their second opinion. ${outcomeSentence[d.outcome]}`,
      ['What they said', '', quoted(d.summary)],
      [
        'Who else has been told',
        '',
        d.sharedWithOriginalTeam
          ? `Your GP has been sent this opinion. As you agreed, your current clinical team (${d.originalTeamName}) has been sent it too.`
          : `Your GP has been sent this opinion. It has not been sent to your current clinical team (${d.originalTeamName}); you can share it with them if you wish.`,
      ],
      [
        'What happens next',
        '',
        'It is a good idea to talk to your GP or your clinical team about what this opinion means for you and your treatment.',
        '',
        notAutomaticallyTakingOverCare(d.originalTeamName),
      ],
      palsSection(d.pals),
      PATIENT_FOOTER,
    ),
  };
}

export interface PatientCareTransferredData extends ToPatient {
  readonly responsibleTeamName: string;
  readonly previousTeamName: string;
}

/** Rule 5: the new team and its hospital agreed to take over care. */
export function patientCareTransferred(d: PatientCareTransferredData): RenderedMessage {
  return {
    subject: 'Your care is moving to a new clinical team',
    text: paragraphs(
      dear(d.patientName),
      `${d.responsibleTeamName} and their hospital have agreed to take over your care, as you asked. From now on they are responsible for your care, instead of ${d.previousTeamName}.`,
      'Your GP and your previous clinical team have been told. Your new team will contact you about your treatment.',
      palsSection(d.pals),
      PATIENT_FOOTER,
    ),
  };
}

export interface PatientCareRetainedData extends ToPatient {
  readonly responsibleTeamName: string;
  /** The team that was asked to take over care, when known. */
  readonly newTeamName?: string | undefined;
  readonly reason: string;
}

/** Rules 5 and 11: care stays with the current team; the patient is told why and how to reach PALS. */
export function patientCareRetained(d: PatientCareRetainedData): RenderedMessage {
  return {
    subject: 'Your care will stay with your current clinical team',
    text: paragraphs(
      dear(d.patientName),
      `You asked to be treated by ${d.newTeamName ?? 'the clinical team that gave your second opinion'}. This will not go ahead, and your care will ` +
        `stay with your current clinical team (${d.responsibleTeamName}), who are still responsible for it.`,
      ['The reason', '', quoted(d.reason)],
      'Your GP has been told. If you would like to talk about your options, please contact your GP practice or your clinical team.',
      palsSection(d.pals, DECISION_LEAD),
      PATIENT_FOOTER,
    ),
  };
}

export interface PatientWithdrawnData extends ToPatient {
  readonly withdrawnBy: ActorRole;
  readonly reason?: string | undefined;
  readonly originalTeamName: string;
}

const withdrawnByText: Record<ActorRole, string> = {
  patient: 'As you asked, your request for a second opinion has been withdrawn.',
  gp: 'Your GP practice has withdrawn your request for a second opinion on your behalf.',
  clinician: 'Your request for a second opinion has been withdrawn.',
  ops: 'Your request for a second opinion has been withdrawn.',
  system: 'Your request for a second opinion has been withdrawn.',
};

/** Rule 11: the request was withdrawn; nothing more happens; the patient may ask again and can reach PALS. */
export function patientWithdrawn(d: PatientWithdrawnData): RenderedMessage {
  return {
    subject: 'Your request for a second opinion has been withdrawn',
    text: paragraphs(
      dear(d.patientName),
      withdrawnByText[d.withdrawnBy],
      d.reason?.trim() ? ['The reason given', '', quoted(d.reason)] : undefined,
      'Nothing more will happen with this request, and any sending of your records for it has been stopped. Your GP has been told.',
      `Your current clinical team (${d.originalTeamName}) is still responsible for your care. If you change your mind, you can ask your GP for a second opinion again.`,
      palsSection(d.pals, WITHDRAWAL_LEAD),
      PATIENT_FOOTER,
    ),
  };
}
