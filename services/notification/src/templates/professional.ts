import type { RecordsGapKind, ReminderStep } from '@sonet/contracts';
import type { ActorRole, OpinionOutcome } from './patient.templates';
import { paragraphs, PROFESSIONAL_FOOTER, shortRef } from './format';
import type { RenderedMessage } from './rendered-message';

/** Subject line of every message to a GP practice or clinical team: the referral's short reference, then what happened. */
export const professionalSubject = (referralId: string, what: string): string => `Second opinion referral ${shortRef(referralId)}: ${what}`;

/** What every message to a GP practice or clinical team names: the referral and the patient (never the NHS number). */
export interface ToProfessional {
  readonly referralId: string;
  readonly patientName: string;
}

export const DEAR_COLLEAGUE = 'Dear colleague,';

export const patientLines = (d: ToProfessional): string[] => [
  `  Patient: ${d.patientName.trim()}`,
  `  Referral reference: ${d.referralId}`,
];

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

export interface RecordsGapsData extends ToProfessional {
  readonly originalTeamName: string;
  readonly gaps: readonly { readonly kind: RecordsGapKind; readonly reference: string; readonly reason: string }[];
}

const GAP_KIND: Record<RecordsGapKind, string> = {
  'imaging-study': 'an imaging study',
  'imaging-series': 'a series of images',
  attachment: 'a document file',
};

/**
 * Rule 4: what the records sent for the second opinion refer to but the original trust does not hold (a report's
 * images, a letter's file). Told to the GP and the receiving team; the first paragraph says who it is for.
 */
export function recordsGapsMessage(d: RecordsGapsData, opening: string): RenderedMessage {
  return {
    subject: professionalSubject(d.referralId, `${d.gaps.length} record(s) could not be sent`),
    text: paragraphs(
      DEAR_COLLEAGUE,
      opening,
      patientLines(d),
      d.gaps.map((g) => `  - ${GAP_KIND[g.kind]} (${g.reference}): ${g.reason}`),
      `Everything else that was relevant has been sent and confirmed. If these records matter to the second opinion, please ask ${d.originalTeamName} for them.`,
      PROFESSIONAL_FOOTER,
    ),
  };
}
