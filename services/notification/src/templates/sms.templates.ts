import type { TemplateName } from './index';

/*
 * Text messages to patients. A text can be read by anyone holding the phone and sits on a lock screen, so it
 * carries NO clinical detail: no diagnosis, specialty, team, hospital, reason, outcome or date of care; only that
 * there is news about the referral, its short reference and what to do next. The full message goes by letter or
 * email when the patient has one, and the GP practice can always explain. Each text has a version: change the
 * wording, raise the version (the clinical safety officer reviews each version through the preview endpoint).
 */

export type PatientTemplateName = Extract<TemplateName, `patient-${string}`>;

interface SmsTemplate {
  readonly version: number;
  /** What happened, in words that say nothing clinical. */
  readonly news: string;
  /** What the patient can do next. */
  readonly next: string;
}

const ASK_GP = 'Your GP practice can tell you more.';

export const SMS_TEMPLATES: { readonly [K in PatientTemplateName]: SmsTemplate } = {
  'patient-acknowledgement': {
    version: 1,
    news: 'We have received your request for a second opinion.',
    next: 'We will text you when there is news.',
  },
  'patient-gp-declined': { version: 1, news: 'Your GP practice has replied to your request for a second opinion.', next: ASK_GP },
  'patient-referred': { version: 1, news: 'Your request for a second opinion has been sent on.', next: ASK_GP },
  'patient-triage-accepted': {
    version: 1,
    news: 'There is an update on your second opinion referral.',
    next: 'You will hear about an appointment.',
  },
  'patient-triage-rejected': { version: 1, news: 'There is an update on your second opinion referral.', next: ASK_GP },
  'patient-appointment-booked': {
    version: 1,
    news: 'There is an update on your second opinion referral.',
    next: 'Details are on their way by letter or email, or ask your GP practice.',
  },
  'patient-opinion-issued': { version: 1, news: 'There is an update on your second opinion referral.', next: ASK_GP },
  'patient-care-transferred': { version: 1, news: 'There is an update on your care after your second opinion.', next: ASK_GP },
  'patient-care-retained': { version: 1, news: 'There is an update on your care after your second opinion.', next: ASK_GP },
  'patient-withdrawn': { version: 1, news: 'Your second opinion referral has been closed.', next: ASK_GP },
};

export const isPatientTemplate = (t: TemplateName): t is PatientTemplateName => t in SMS_TEMPLATES;

/** The short reference a patient can quote: the first block of the referral id, upper case. */
export const shortReference = (referralId: string): string => referralId.slice(0, 8).toUpperCase();

/** The text for a patient template, or null for templates that never go to a patient. */
export function renderSms(template: TemplateName, referralId: string, palsPhone?: string): string | null {
  if (!isPatientTemplate(template)) return null;
  const t = SMS_TEMPLATES[template];
  const pals = palsPhone ? ` Advice: PALS ${palsPhone}.` : '';
  return `NHS second opinion (ref ${shortReference(referralId)}): ${t.news} ${t.next}${pals}`;
}

/** GSM 03.38 basic characters (one septet each) and the extension table (two septets each). */
const GSM_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
const GSM_EXTENDED = new Set('^{}\\[~]|€');

/**
 * How many SMS fragments a text costs, as networks count them: GSM-7 fits 160 septets in one message or 153 per
 * part; any other character makes the whole text UCS-2, 70 characters or 67 per part.
 */
export function smsFragments(text: string): { readonly encoding: 'gsm' | 'ucs2'; readonly units: number; readonly fragments: number } {
  const chars = [...text];
  if (chars.every((c) => GSM_BASIC.has(c) || GSM_EXTENDED.has(c))) {
    const units = chars.reduce((n, c) => n + (GSM_EXTENDED.has(c) ? 2 : 1), 0);
    return { encoding: 'gsm', units, fragments: units <= 160 ? 1 : Math.ceil(units / 153) };
  }
  // UCS-2 counts UTF-16 code units (a character outside the BMP takes two).
  const units = text.length;
  return { encoding: 'ucs2', units, fragments: units <= 70 ? 1 : Math.ceil(units / 67) };
}
