import { requestSecondOpinionSchema } from './request-second-opinion.command';

const valid = {
  patient: { nhsNumber: '943 476 5919', name: 'Ann Example', email: 'ann@example.org', preferredChannel: 'email' },
  originalTeamId: 'RJ122-CARD',
  specialty: 'cardiology',
  reason: 'Would like another view',
  recordsSharingConsent: true,
};

const issuesOf = (input: unknown) => {
  const r = requestSecondOpinionSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
};

describe('a request for a second opinion', () => {
  it("normalises the NHS number and keeps the original team's directory id", () => {
    const cmd = requestSecondOpinionSchema.parse(valid);
    expect(cmd.patient.nhsNumber).toBe('9434765919');
    expect(cmd.originalTeamId).toBe('RJ122-CARD');
  });

  it('rule 2: records whether the original team explained the diagnosis, and never requires it', () => {
    expect(requestSecondOpinionSchema.parse(valid).explainedByOriginalTeam).toBe(false);
    expect(requestSecondOpinionSchema.parse({ ...valid, explainedByOriginalTeam: true }).explainedByOriginalTeam).toBe(true);
  });

  it('defaults to routine urgency', () => {
    expect(requestSecondOpinionSchema.parse(valid).urgency).toBe('routine');
  });

  it('rejects an NHS number whose check digit is wrong', () => {
    expect(issuesOf({ ...valid, patient: { ...valid.patient, nhsNumber: '9434765918' } })).toEqual(['patient.nhsNumber']);
  });

  it('rule 4: requires an explicit answer about sharing records', () => {
    const { recordsSharingConsent: _omitted, ...withoutConsent } = valid;
    expect(issuesOf(withoutConsent)).toEqual(['recordsSharingConsent']);
  });

  it('needs an email address when the patient prefers email, a mobile for SMS and an address for letters', () => {
    expect(issuesOf({ ...valid, patient: { ...valid.patient, email: undefined } })).toEqual(['patient.email']);
    expect(issuesOf({ ...valid, patient: { ...valid.patient, preferredChannel: 'sms' } })).toEqual(['patient.mobile']);
    expect(issuesOf({ ...valid, patient: { ...valid.patient, preferredChannel: undefined, contactPreferences: ['letter'] } })).toEqual([
      'patient.address',
    ]);
  });

  it('takes the referring practice from the caller, never from the body', () => {
    expect(issuesOf({ ...valid, referringPractice: 'B82005' })).toEqual(['']);
  });

  it('refuses fields it does not know, so a typo is not silently dropped', () => {
    expect(issuesOf({ ...valid, urgancy: 'urgent' })).toEqual(['']);
  });
});
