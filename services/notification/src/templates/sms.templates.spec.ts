import { renderSms, SMS_TEMPLATES, smsFragments, type PatientTemplateName } from './sms.templates';
import { TEMPLATE_NAMES } from './index';

const REFERRAL_ID = '5b8e7a57-6d3c-4f1e-8a55-2a1f7c3d9e10';
const PALS_PHONE = '0113 206 6261';

/**
 * Words that would make a text message clinical: diagnoses, specialties, decisions about care, places of care,
 * dates. A text sits on a lock screen; none of it may appear.
 */
const CLINICAL = [
  /cancer|tumou?r|cardio|oncolog|neurolog|diagnos|condition|treatment|symptom|medication|surgery|scan|result/i,
  /declin|reject|accepted|refus|not to refer|opinion (is|was|says)|outcome|summary/i,
  /hospital|clinic\b|ward|team\b/i,
  /\b(mon|tues|wednes|thurs|fri|satur|sun)day\b|\b\d{1,2}(:\d{2})?\s?(am|pm)\b|\b\d{1,2} (jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)/i,
  /nhs number|\b\d{3} ?\d{3} ?\d{4}\b/i,
];

describe('text messages to patients', () => {
  const patientTemplates = Object.keys(SMS_TEMPLATES) as PatientTemplateName[];

  it('exist for every patient template and for no other', () => {
    expect(patientTemplates.sort()).toEqual(TEMPLATE_NAMES.filter((t) => t.startsWith('patient-')).sort());
    expect(TEMPLATE_NAMES.filter((t) => !t.startsWith('patient-')).map((t) => renderSms(t, REFERRAL_ID))).toEqual(
      TEMPLATE_NAMES.filter((t) => !t.startsWith('patient-')).map(() => null),
    );
  });

  it.each(patientTemplates)('%s holds no clinical text', (template) => {
    const text = renderSms(template, REFERRAL_ID, PALS_PHONE) ?? '';
    for (const pattern of CLINICAL) expect(text).not.toMatch(pattern);
  });

  it.each(patientTemplates)('%s gives the short reference, what to do next and PALS, within two fragments', (template) => {
    const text = renderSms(template, REFERRAL_ID, PALS_PHONE) ?? '';
    expect(text).toContain('ref 5B8E7A57');
    expect(text).toContain(`PALS ${PALS_PHONE}`);
    expect(smsFragments(text)).toMatchObject({ encoding: 'gsm' });
    expect(smsFragments(text).fragments).toBeLessThanOrEqual(2);
  });

  it('each has a version', () => {
    for (const t of patientTemplates) expect(SMS_TEMPLATES[t].version).toBeGreaterThanOrEqual(1);
  });
});

describe('SMS fragment counting', () => {
  it('fits 160 GSM characters in one message, then 153 per part', () => {
    expect(smsFragments('a'.repeat(160))).toEqual({ encoding: 'gsm', units: 160, fragments: 1 });
    expect(smsFragments('a'.repeat(161))).toEqual({ encoding: 'gsm', units: 161, fragments: 2 });
    expect(smsFragments('a'.repeat(306))).toEqual({ encoding: 'gsm', units: 306, fragments: 2 });
    expect(smsFragments('a'.repeat(307))).toEqual({ encoding: 'gsm', units: 307, fragments: 3 });
  });

  it('counts the GSM extension characters (€, [, ]) twice', () => {
    expect(smsFragments('€'.repeat(80))).toEqual({ encoding: 'gsm', units: 160, fragments: 1 });
    expect(smsFragments('€'.repeat(81))).toEqual({ encoding: 'gsm', units: 162, fragments: 2 });
  });

  it('switches the whole text to UCS-2 for any other character: 70, then 67 per part', () => {
    expect(smsFragments('a'.repeat(69) + '✓')).toEqual({ encoding: 'ucs2', units: 70, fragments: 1 });
    expect(smsFragments('a'.repeat(70) + '✓')).toEqual({ encoding: 'ucs2', units: 71, fragments: 2 });
    expect(smsFragments('ł'.repeat(135)).fragments).toBe(3);
  });
});
