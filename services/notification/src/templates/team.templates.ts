import type { ReminderStep } from '@sonet/contracts';
import type { RenderedMessage } from './rendered-message';
import { distance, paragraphs, PROFESSIONAL_FOOTER, quoted, shortRef, ukDateTime } from './format';
import type { ActorRole, OpinionOutcome } from './patient.templates';
import {
  DEAR_COLLEAGUE,
  days,
  patientLines,
  professionalOutcome,
  reminderStepText,
  professionalSubject,
  recordsGapsMessage,
  type RecordsGapsData,
  withdrawnByProfessional,
  type ToProfessional,
  type UrgentWaitData,
} from './professional';

/* Messages to clinical teams: the receiving team (asked for the second opinion) and the original team. */

const subject = professionalSubject;

const CARE_DOES_NOT_MOVE = (originalTeamName: string) =>
  `A second opinion does not transfer care: ${originalTeamName} remains responsible for the patient's care unless the patient asks for a transfer and your team and your hospital agree to it.`;

export interface ReceivingTeamNewReferralData extends ToProfessional {
  readonly specialty: string;
  readonly urgent: boolean;
  readonly referringPractice: string;
  readonly originalTeamName: string;
  readonly triageDueAt: string;
  readonly attempt: number;
  readonly distanceKm?: number | undefined;
}

/** Rules 3 and 6: a new referral, flagged SECOND OPINION, to be triaged like any new patient referral. */
export function receivingTeamNewReferral(d: ReceivingTeamNewReferralData): RenderedMessage {
  return {
    subject: `${d.urgent ? 'URGENT ' : ''}New referral for a SECOND OPINION (${shortRef(d.referralId)})`,
    text: paragraphs(
      DEAR_COLLEAGUE,
      `Your team has been sent a new ${d.urgent ? 'URGENT ' : ''}referral for a SECOND OPINION.`,
      [
        ...patientLines(d),
        `  Specialty: ${d.specialty}`,
        `  Urgency: ${d.urgent ? 'URGENT' : 'routine'}`,
        `  Referred by GP practice: ${d.referringPractice}`,
        `  First opinion given by: ${d.originalTeamName}`,
        ...(d.distanceKm !== undefined ? [`  Distance from the patient's GP practice: ${distance(d.distanceKm)}`] : []),
      ],
      d.attempt > 1 && 'Another team was asked first and could not accept this referral.',
      `Please triage and assess it as you would any new patient referral: accept it, reject it with a reason, or ask the GP for more information. Triage is due by ${ukDateTime(d.triageDueAt)}.`,
      "With the patient's consent, relevant test results and imaging already taken are being sent to you separately.",
      CARE_DOES_NOT_MOVE(d.originalTeamName),
      d.urgent &&
        'The patient has a serious condition that may need urgent treatment: the wait for an appointment is being watched, and the GP and the original ' +
          'team are told if it passes the clinical threshold.',
      PROFESSIONAL_FOOTER,
    ),
  };
}

export interface ReceivingTeamMoreInfoProvidedData extends ToProfessional {
  readonly answer: string;
  readonly triageDueAt: string;
}

export function receivingTeamMoreInfoProvided(d: ReceivingTeamMoreInfoProvidedData): RenderedMessage {
  return {
    subject: subject(d.referralId, 'the GP has answered your question'),
    text: paragraphs(
      DEAR_COLLEAGUE,
      'The GP has answered your request for more information about the second opinion referral below.',
      patientLines(d),
      ["The GP's answer", '', quoted(d.answer)],
      `Please complete triage by ${ukDateTime(d.triageDueAt)}.`,
      PROFESSIONAL_FOOTER,
    ),
  };
}

export interface ReceivingTeamCareTransferRequestedData extends ToProfessional {
  readonly requestedBy: ActorRole;
  readonly originalTeamName: string;
}

/** Rule 5: taking over care is a separate arrangement the team and its hospital agree to. */
export function receivingTeamCareTransferRequested(d: ReceivingTeamCareTransferRequestedData): RenderedMessage {
  return {
    subject: subject(d.referralId, 'transfer of care requested'),
    text: paragraphs(
      DEAR_COLLEAGUE,
      `The patient below has asked to be treated by your team${d.requestedBy === 'gp' ? ' (requested through their GP practice)' : ''}.`,
      patientLines(d),
      `Transfer of care is a separate arrangement from the second opinion: it needs both your team and your hospital to agree. Please record in the ` +
        `referral service whether you accept it. Until a transfer is agreed, ${d.originalTeamName} remains responsible for the patient's care.`,
      PROFESSIONAL_FOOTER,
    ),
  };
}

export interface TeamWithdrawnData extends ToProfessional {
  readonly withdrawnBy: ActorRole;
}

export function receivingTeamWithdrawn(d: TeamWithdrawnData): RenderedMessage {
  return {
    subject: subject(d.referralId, 'withdrawn'),
    text: paragraphs(
      DEAR_COLLEAGUE,
      `The second opinion referral below has been withdrawn ${withdrawnByProfessional[d.withdrawnBy]}. Please take no further action on it: do not ` +
        `triage it or book an appointment, and cancel any appointment already booked. Any records transfer for it has been cancelled.`,
      patientLines(d),
      PROFESSIONAL_FOOTER,
    ),
  };
}

export interface ReceivingTeamReminderData extends ToProfessional {
  readonly step: ReminderStep;
  readonly dueAt: string;
  readonly overdue: boolean;
}

export function receivingTeamReminder(d: ReceivingTeamReminderData): RenderedMessage {
  return {
    subject: subject(d.referralId, d.overdue ? 'action overdue' : 'action due soon'),
    text: paragraphs(
      DEAR_COLLEAGUE,
      d.overdue
        ? `This is a reminder that a step on the second opinion referral below is overdue. Your team was asked to ${reminderStepText[d.step]} by ${ukDateTime(d.dueAt)}.`
        : `This is a reminder that a step on the second opinion referral below is due soon. Please ${reminderStepText[d.step]} by ${ukDateTime(d.dueAt)}.`,
      patientLines(d),
      PROFESSIONAL_FOOTER,
    ),
  };
}

export interface OriginalTeamInformedData extends ToProfessional {
  readonly targetTeamName?: string | undefined;
  readonly urgent: boolean;
}

/** Rule 9: at the patient's choice, the first team is told a second opinion is under way. */
export function originalTeamInformed(d: OriginalTeamInformedData): RenderedMessage {
  return {
    subject: subject(d.referralId, 'your patient is seeking a second opinion'),
    text: paragraphs(
      DEAR_COLLEAGUE,
      `Your patient below has asked for a second opinion and has chosen to let your team know.${d.targetTeamName ? ` Their GP has referred them to ${d.targetTeamName}.` : ''}`,
      patientLines(d),
      "Your team remains responsible for the patient's care: a second opinion does not transfer care unless the patient asks for a transfer and the new team and its hospital agree.",
      d.urgent &&
        "The referral is marked urgent. Please consider whether any delay in starting treatment could affect the patient's wellbeing: treatment need not wait for the second opinion.",
      PROFESSIONAL_FOOTER,
    ),
  };
}

export interface OriginalTeamOpinionIssuedData extends ToProfessional {
  readonly teamName: string;
  readonly outcome: OpinionOutcome;
  readonly summary: string;
}

/** Rule 8: with the patient's agreement, the opinion is shared with the first team. */
export function originalTeamOpinionIssued(d: OriginalTeamOpinionIssuedData): RenderedMessage {
  return {
    subject: subject(d.referralId, 'second opinion shared with you'),
    text: paragraphs(
      DEAR_COLLEAGUE,
      `With the patient's agreement, ${d.teamName} is sharing with you the second opinion they gave for your patient below. ${professionalOutcome[d.outcome]}`,
      patientLines(d),
      ['Summary', '', quoted(d.summary)],
      "Your team remains responsible for the patient's care unless the patient asks for a transfer and the new team and its hospital agree.",
      PROFESSIONAL_FOOTER,
    ),
  };
}

export interface OriginalTeamCareTransferredData extends ToProfessional {
  readonly responsibleTeamName: string;
}

/** Rule 5: the first team hands over once the new team has agreed. */
export function originalTeamCareTransferred(d: OriginalTeamCareTransferredData): RenderedMessage {
  return {
    subject: subject(d.referralId, 'care transferred to another team'),
    text: paragraphs(
      DEAR_COLLEAGUE,
      `At the patient's request, ${d.responsibleTeamName} and its hospital have agreed to take over the care of your patient below. From now on they ` +
        `are responsible for the patient's care, instead of your team.`,
      patientLines(d),
      'Please make sure the handover of care is complete. The patient and their GP have been told.',
      PROFESSIONAL_FOOTER,
    ),
  };
}

/** Rule 10: an urgent referral has waited past its threshold; the first team is asked to consider the delay. */
export function originalTeamUrgentWaitEscalated(d: UrgentWaitData): RenderedMessage {
  return {
    subject: `URGENT: second opinion referral ${shortRef(d.referralId)} has waited past its clinical threshold`,
    text: paragraphs(
      DEAR_COLLEAGUE,
      `Your patient below is waiting for a second opinion${d.targetTeamName ? ` from ${d.targetTeamName}` : ''} on an urgent referral. ` +
        `They have waited ${days(d.waitedDays)} without an appointment, past the clinical threshold of ${days(d.thresholdDays)}.`,
      patientLines(d),
      "Your team remains responsible for the patient's care. Please consider whether any delay in starting treatment could affect the patient's " +
        'wellbeing. Treatment need not wait for the second opinion.',
      d.message.trim() ? ['From the referral service', '', quoted(d.message)] : undefined,
      "The patient's GP has been told as well.",
      PROFESSIONAL_FOOTER,
    ),
  };
}

/** The first team knew of the second opinion (rule 9), so it hears that it stopped. */
export function originalTeamWithdrawn(d: TeamWithdrawnData): RenderedMessage {
  return {
    subject: subject(d.referralId, 'second opinion request withdrawn'),
    text: paragraphs(
      DEAR_COLLEAGUE,
      `You were told that your patient below had asked for a second opinion. That request has now been withdrawn ${withdrawnByProfessional[d.withdrawnBy]}.`,
      patientLines(d),
      "Your team remains responsible for the patient's care. No action is needed from you.",
      PROFESSIONAL_FOOTER,
    ),
  };
}

export type ReceivingTeamRecordsGapsData = RecordsGapsData;

export const receivingTeamRecordsGaps = (d: ReceivingTeamRecordsGapsData): RenderedMessage =>
  recordsGapsMessage(
    d,
    'The test results and imaging for the second opinion referral below have reached your trust, but some records they refer to are missing at the original hospital:',
  );
