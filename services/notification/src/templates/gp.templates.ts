import type { ClosedOutcome, ReminderStep } from '@sonet/contracts';
import type { RenderedMessage } from './rendered-message';
import { paragraphs, PROFESSIONAL_FOOTER, quoted, shortRef, ukDate, ukDateTime } from './format';
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

/* Messages to the referring GP practice: the referrer, who decides, picks the team and is told each outcome. */

const subject = professionalSubject;

export interface GpTriageAcceptedData extends ToProfessional {
  readonly teamName: string;
  readonly bookingDueAt: string;
}

export function gpTriageAccepted(d: GpTriageAcceptedData): RenderedMessage {
  return {
    subject: subject(d.referralId, 'accepted by the receiving team'),
    text: paragraphs(
      DEAR_COLLEAGUE,
      `${d.teamName} has triaged and accepted the second opinion referral below. They aim to book the appointment by ${ukDate(d.bookingDueAt)}. The patient has been told.`,
      patientLines(d),
      'No action is needed from you.',
      PROFESSIONAL_FOOTER,
    ),
  };
}

export interface GpTriageRejectedData extends ToProfessional {
  readonly teamName: string;
  readonly originalTeamName: string;
  readonly reason: string;
}

/** Rule 6: a rejection goes back to the GP, who may pick another team. */
export function gpTriageRejected(d: GpTriageRejectedData): RenderedMessage {
  return {
    subject: subject(d.referralId, 'not accepted by the receiving team'),
    text: paragraphs(
      DEAR_COLLEAGUE,
      `${d.teamName} has triaged the second opinion referral below and not accepted it.`,
      patientLines(d),
      ['Their reason', '', quoted(d.reason)],
      [
        'What happens next',
        '',
        `The referral has come back to you. You may refer the patient to another clinical team for a second opinion (it must be a different team from ` +
          `the one that gave the first opinion, ${d.originalTeamName}), or decide not to refer and record why.`,
      ],
      'The patient has been told, with how to reach the Patient Advice and Liaison Service (PALS).',
      PROFESSIONAL_FOOTER,
    ),
  };
}

export interface GpMoreInfoRequestedData extends ToProfessional {
  readonly teamName: string;
  readonly question: string;
  readonly dueAt: string;
}

export function gpMoreInfoRequested(d: GpMoreInfoRequestedData): RenderedMessage {
  return {
    subject: subject(d.referralId, 'more information requested'),
    text: paragraphs(
      DEAR_COLLEAGUE,
      `${d.teamName} needs more information before they can triage the second opinion referral below.`,
      patientLines(d),
      ['Their question', '', quoted(d.question)],
      `Please answer through the referral service by ${ukDateTime(d.dueAt)}.`,
      PROFESSIONAL_FOOTER,
    ),
  };
}

export interface GpOpinionIssuedData extends ToProfessional {
  readonly teamName: string;
  readonly originalTeamName: string;
  readonly outcome: OpinionOutcome;
  readonly summary: string;
  readonly sharedWithOriginalTeam: boolean;
}

/** Rule 8: the opinion is shared with the GP. */
export function gpOpinionIssued(d: GpOpinionIssuedData): RenderedMessage {
  return {
    subject: subject(d.referralId, 'second opinion given'),
    text: paragraphs(
      DEAR_COLLEAGUE,
      `${d.teamName} has given the second opinion for the referral below. ${professionalOutcome[d.outcome]}`,
      patientLines(d),
      ['Summary', '', quoted(d.summary)],
      d.sharedWithOriginalTeam
        ? `The patient has been sent the opinion. With the patient's agreement, the original team (${d.originalTeamName}) has been sent it too.`
        : `The patient has been sent the opinion. It has not been sent to the original team (${d.originalTeamName}).`,
      `Care has not moved: ${d.originalTeamName} remains responsible unless the patient asks for a transfer of care and the new team and its hospital agree.`,
      PROFESSIONAL_FOOTER,
    ),
  };
}

export interface GpCareTransferredData extends ToProfessional {
  readonly responsibleTeamName: string;
  readonly previousTeamName: string;
}

/** Rule 5: the new team is now responsible. */
export function gpCareTransferred(d: GpCareTransferredData): RenderedMessage {
  return {
    subject: subject(d.referralId, 'care transferred'),
    text: paragraphs(
      DEAR_COLLEAGUE,
      `At the patient's request, ${d.responsibleTeamName} and its hospital have agreed to take over the patient's care. From now on they are responsible for it, instead of ${d.previousTeamName}.`,
      patientLines(d),
      'The patient and the previous team have been told.',
      PROFESSIONAL_FOOTER,
    ),
  };
}

export interface GpCareRetainedData extends ToProfessional {
  readonly responsibleTeamName: string;
  readonly newTeamName?: string | undefined;
  readonly reason: string;
}

/** Rule 5: care stays with the original team. */
export function gpCareRetained(d: GpCareRetainedData): RenderedMessage {
  return {
    subject: subject(d.referralId, 'care not transferred'),
    text: paragraphs(
      DEAR_COLLEAGUE,
      `The patient asked to be treated by ${d.newTeamName ?? 'the team that gave the second opinion'}. This will not go ahead: ${d.responsibleTeamName} remains responsible for the patient's care.`,
      patientLines(d),
      ['The reason', '', quoted(d.reason)],
      'The patient has been told, with how to reach the Patient Advice and Liaison Service (PALS).',
      PROFESSIONAL_FOOTER,
    ),
  };
}

export interface GpWithdrawnData extends ToProfessional {
  readonly withdrawnBy: ActorRole;
  readonly reason?: string | undefined;
}

export function gpWithdrawn(d: GpWithdrawnData): RenderedMessage {
  return {
    subject: subject(d.referralId, 'withdrawn'),
    text: paragraphs(
      DEAR_COLLEAGUE,
      `The request for a second opinion below has been withdrawn ${withdrawnByProfessional[d.withdrawnBy]}. Its reminders have stopped, and any records transfer for it has been cancelled.`,
      patientLines(d),
      d.reason?.trim() ? ['The reason given', '', quoted(d.reason)] : undefined,
      'The patient has been told, with how to reach the Patient Advice and Liaison Service (PALS). No action is needed from you.',
      PROFESSIONAL_FOOTER,
    ),
  };
}

/** Rule 10: an urgent referral has waited past its threshold. */
export function gpUrgentWaitEscalated(d: UrgentWaitData): RenderedMessage {
  return {
    subject: `URGENT: second opinion referral ${shortRef(d.referralId)} has waited past its clinical threshold`,
    text: paragraphs(
      DEAR_COLLEAGUE,
      `The urgent second opinion referral below has waited ${days(d.waitedDays)} without an appointment, past its clinical threshold of ${days(d.thresholdDays)}.`,
      patientLines(d),
      `Please consider, with the patient and their clinical team (${d.originalTeamName}), whether any delay in starting treatment could affect the ` +
        `patient's wellbeing. Treatment need not wait for the second opinion.`,
      d.message.trim() ? ['From the referral service', '', quoted(d.message)] : undefined,
      `The original team (${d.originalTeamName}) has been told as well.`,
      PROFESSIONAL_FOOTER,
    ),
  };
}

export interface GpReminderData extends ToProfessional {
  readonly step: ReminderStep;
  readonly dueAt: string;
  readonly overdue: boolean;
}

export function gpReminder(d: GpReminderData): RenderedMessage {
  return {
    subject: subject(d.referralId, d.overdue ? 'action overdue' : 'action due soon'),
    text: paragraphs(
      DEAR_COLLEAGUE,
      d.overdue
        ? `This is a reminder that a step on the second opinion referral below is overdue. You were asked to ${reminderStepText[d.step]} by ${ukDateTime(d.dueAt)}.`
        : `This is a reminder that a step on the second opinion referral below is due soon. Please ${reminderStepText[d.step]} by ${ukDateTime(d.dueAt)}.`,
      patientLines(d),
      PROFESSIONAL_FOOTER,
    ),
  };
}

export interface GpReferralClosedData extends ToProfessional {
  readonly outcome: ClosedOutcome;
  readonly responsibleTeamName: string;
}

const closedOutcomeText: Record<ClosedOutcome, string> = {
  'opinion-given': 'The second opinion was given; care was not transferred.',
  'care-transferred': 'The second opinion was given and care was transferred to the new team.',
  'care-retained': 'The second opinion was given; the new team did not take over care.',
};

export function gpReferralClosed(d: GpReferralClosedData): RenderedMessage {
  return {
    subject: subject(d.referralId, 'closed'),
    text: paragraphs(
      DEAR_COLLEAGUE,
      `The second opinion referral below is now closed. ${closedOutcomeText[d.outcome]}`,
      patientLines(d),
      `Responsible for the patient's care: ${d.responsibleTeamName}.`,
      PROFESSIONAL_FOOTER,
    ),
  };
}

export type GpRecordsGapsData = RecordsGapsData;

export const gpRecordsGaps = (d: GpRecordsGapsData): RenderedMessage =>
  recordsGapsMessage(
    d,
    'The test results and imaging of your patient were sent to the new team, but some records they refer to are missing at the original hospital:',
  );
