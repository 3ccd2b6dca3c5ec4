import { palsSection, type PalsContact } from './pals';
import type { RenderedMessage } from './rendered-message';

/**
 * What the acknowledgement needs, and nothing more: no NHS number, no clinical detail (an email may be
 * read by others on a shared device), just how to address the patient and where to get help.
 */
export interface PatientAcknowledgementData {
  readonly patientName: string;
  readonly pals: PalsContact;
}

/** Tells the patient their request for a second opinion was received and what happens next (source guidance). */
export function patientAcknowledgement(data: PatientAcknowledgementData): RenderedMessage {
  const text = [
    `Dear ${data.patientName.trim()},`,
    '',
    'Thank you for asking for a second opinion. Your GP practice has recorded your request.',
    '',
    'What happens next',
    '',
    'Your GP will review your request and decide whether to refer you to a different clinical team for a second opinion. You will be told what they decide.',
    '',
    'If your GP refers you, the new clinical team will be told that this is for a second opinion. With your consent, they will also be sent any ' +
      'relevant test results or X-rays you have already had. The new team will assess your referral as they would any new patient referral.',
    '',
    'Things to know',
    '',
    '- The new clinical team will not automatically take over your care. If you would like to be treated by them, this needs to be arranged with them ' +
      'and their hospital. Until then, your current clinical team is still responsible for your care.',
    '- The new clinical team may be at a different hospital, which may mean more travelling.',
    '- Their opinion may be the same as the first one.',
    '- While you wait, you may wish to let your current clinical team know that you have asked for a second opinion.',
    '',
    'If your condition is serious',
    '',
    'If you have a serious medical condition that needs urgent treatment, please talk to your clinical team and ask whether any delay in starting treatment could affect your wellbeing.',
    '',
    palsSection(data.pals),
    '',
    'This email was sent automatically. Please do not reply to it, as replies are not read.',
    '',
  ].join('\n');
  return { subject: 'We have received your request for a second opinion', text };
}
