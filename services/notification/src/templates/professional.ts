import type { ActorRole, OpinionOutcome } from './patient.templates';
import { shortRef } from './format';

/** Subject line of every message to a GP practice or clinical team: the referral's short reference, then what happened. */
export const professionalSubject = (referralId: string, what: string): string => `Second opinion referral ${shortRef(referralId)}: ${what}`;

/** What every message to a GP practice or clinical team names: the referral and the patient (never the NHS number). */
export interface ToProfessional {
  readonly referralId: string;
  readonly patientName: string;
}

export const DEAR_COLLEAGUE = 'Dear colleague,';

export const patientLines = (d: ToProfessional): string[] => [`  Patient: ${d.patientName.trim()}`, `  Referral reference: ${d.referralId}`];

export const professionalOutcome: Record<OpinionOutcome, string> = {
  concurs: 'The second opinion concurs with the first opinion.',
  differs: 'The second opinion differs from the first opinion.',
  'partially-differs': 'The second opinion partially differs from the first opinion.',
};

export const withdrawnByProfessional: Record<ActorRole, string> = {
  patient: 'by the patient',
  gp: "by the patient's GP practice on the patient's behalf",
  clinician: 'by a clinical team',
  ops: 'by the referral service',
  system: 'by the referral service',
};

export type ReminderStep = 'gp-decision' | 'triage' | 'more-info' | 'booking' | 'opinion';

export const reminderStepText: Record<ReminderStep, string> = {
  'gp-decision': 'decide whether to refer the patient for a second opinion',
  triage: 'triage the referral: accept it, reject it with a reason, or ask the GP for more information',
  'more-info': "answer the receiving team's request for more information",
  booking: "book the patient's appointment",
  opinion: 'give the second opinion',
};

/** Rule 10 wording, shared by the messages to the original team and to the GP. */
export interface UrgentWaitData extends ToProfessional {
  readonly waitedDays: number;
  readonly thresholdDays: number;
  readonly message: string;
  readonly originalTeamName: string;
  readonly targetTeamName?: string | undefined;
}

export const days = (n: number): string => `${n} ${n === 1 ? 'day' : 'days'}`;
