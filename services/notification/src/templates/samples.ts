import { TEMPLATE_NAMES, renderTemplate, type TemplateDataMap, type TemplateName } from './index';
import { renderSms, SMS_TEMPLATES, isPatientTemplate, smsFragments } from './sms.templates';

/**
 * Sample data for previewing every template: made up, never a real patient (the name, ids and teams are fictional).
 * One set of fields covers every template's data; the few fields whose allowed values differ per template are
 * overridden below. A test renders every template with it (no template may print `undefined`).
 */
const BASE = {
  patientName: 'Alex Sample',
  referralId: '5b8e7a57-6d3c-4f1e-8a55-2a1f7c3d9e10',
  pals: {
    name: 'Patient Advice and Liaison Service (PALS)',
    phone: '01632 960 000',
    email: 'pals@example.invalid',
    url: 'https://example.invalid/pals',
    openingHours: 'Monday to Friday, 9am to 5pm',
  },
  reason: 'Sample reason given by the clinician.',
  nextSteps: 'Sample next steps.',
  targetTeamName: 'Cardiology, Sample County Hospital',
  targetSiteName: 'Sample County Hospital',
  teamName: 'Cardiology, Sample County Hospital',
  originalTeamName: 'Cardiology, Sample General Hospital',
  newTeamName: 'Cardiology, Sample County Hospital',
  previousTeamName: 'Cardiology, Sample General Hospital',
  responsibleTeamName: 'Cardiology, Sample County Hospital',
  specialty: 'cardiology',
  urgent: false,
  distanceKm: 12.5,
  triageDueAt: '2026-12-15T10:00:00.000Z',
  bookingDueAt: '2026-12-22T10:00:00.000Z',
  appointmentAt: '2026-12-29T10:30:00.000Z',
  dueAt: '2026-12-15T10:00:00.000Z',
  siteName: 'Sample County Hospital',
  attempt: 1,
  referringPractice: 'A81001',
  question: 'Sample question from the team.',
  answer: 'Sample answer from the GP.',
  message: 'Sample message.',
  outcome: 'concurs',
  summary: 'Sample opinion summary.',
  sharedWithOriginalTeam: true,
  requestedBy: 'patient',
  withdrawnBy: 'patient',
  step: 'triage',
  overdue: false,
  waitedDays: 30,
  thresholdDays: 28,
  gaps: [{ kind: 'imaging-study', reference: 'sample-study', reason: 'Sample reason the study could not be sent.' }],
} as const;

const OVERRIDES: Partial<Record<TemplateName, Record<string, unknown>>> = {
  'gp-referral-closed': { outcome: 'opinion-given' },
};

export const sampleDataFor = <K extends TemplateName>(name: K): TemplateDataMap[K] =>
  ({ ...BASE, ...(OVERRIDES[name] ?? {}) }) as unknown as TemplateDataMap[K];

export interface TemplatePreview {
  id: TemplateName;
  /** Email and letter: subject and full text. */
  subject: string;
  text: string;
  /** Patients only: the text message version, its version number and its size in SMS fragments. */
  sms: { version: number; text: string; fragments: number; encoding: 'gsm' | 'ucs2' } | null;
}

export const isTemplateName = (id: string): id is TemplateName => (TEMPLATE_NAMES as string[]).includes(id);

/** A template rendered with sample data only, for review (e.g. by the clinical safety officer). */
export function previewTemplate(id: TemplateName): TemplatePreview {
  const rendered = renderTemplate(id, sampleDataFor(id));
  const smsText = renderSms(id, BASE.referralId, BASE.pals.phone);
  const sms = smsText && isPatientTemplate(id) ? { version: SMS_TEMPLATES[id].version, text: smsText, ...smsFragments(smsText) } : null;
  return {
    id,
    subject: rendered.subject,
    text: rendered.text,
    sms: sms && { version: sms.version, text: sms.text, fragments: sms.fragments, encoding: sms.encoding },
  };
}
