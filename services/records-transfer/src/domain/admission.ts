import type { TransferRequest } from './entities';

export type Admission =
  | { readonly next: 'refused'; readonly reason: string; readonly already: boolean }
  | { readonly next: 'finished' }
  | { readonly next: 'discover' }
  | { readonly next: 'send' }
  | { readonly next: 'cannot-run'; readonly reason: string; readonly type: 'NoPatientIdentifier' | 'NoTarget' };

export const NO_LAWFUL_BASIS = 'no lawful basis (consent) is recorded for sharing the records';

/**
 * Where a transfer's workflow goes from what is recorded (rule 4 first): without a recorded lawful basis it is
 * refused and nothing is read; a finished transfer stays finished; a built manifest is sent; else discovery runs.
 */
export function admissionOf(
  t: Pick<TransferRequest, 'status' | 'lawfulBasis' | 'consentRecordedAt' | 'nhsNumber' | 'targetOrganisation' | 'discoveredAt'>,
): Admission {
  if (t.status === 'refused') return { next: 'refused', reason: NO_LAWFUL_BASIS, already: true };
  if (t.status === 'completed' || t.status === 'cancelled') return { next: 'finished' };
  if (!t.lawfulBasis || !t.consentRecordedAt) return { next: 'refused', reason: NO_LAWFUL_BASIS, already: false };
  if (!t.nhsNumber)
    return { next: 'cannot-run', reason: 'the request names no patient (sent before records moved for real)', type: 'NoPatientIdentifier' };
  if (!t.targetOrganisation) return { next: 'cannot-run', reason: 'the request names no receiving organisation', type: 'NoTarget' };
  // A manifest once built is kept: a retried or resumed transfer sends what is still to send.
  if (t.discoveredAt && (t.status === 'review' || t.status === 'sending' || t.status === 'failed')) return { next: 'send' };
  return { next: 'discover' };
}
