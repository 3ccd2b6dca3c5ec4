import { normalisePostcode, normaliseUkMobile, requestPatientSchema } from './patient-contact';

const patient = { nhsNumber: '9434765919', name: 'Ann Example' };
const issuesOf = (input: unknown): { path: string; message: string }[] => {
  const r = requestPatientSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
};

describe('UK mobile numbers', () => {
  it.each([
    ['07911 123456', '+447911123456'],
    ['+44 7911 123456', '+447911123456'],
    ['447911123456', '+447911123456'],
    ['07911-123-456', '+447911123456'],
    ['07700900001', '+447700900001'],
    ['+447700 900002', '+447700900002'],
  ])('normalises %s to %s', (input, e164) => {
    expect(normaliseUkMobile(input)).toBe(e164);
  });

  it.each([
    ['a London landline', '020 7946 0000'],
    ['a French mobile', '+33 6 12 34 56 78'],
    ['a number one digit short', '0791112345'],
    ['a number one digit long', '079111234567'],
    ['text', 'call me'],
    ['a personal number (070)', '070 1234 5678'],
  ])('refuses %s', (_what, input) => {
    expect(normaliseUkMobile(input)).toBeUndefined();
  });
});

describe('UK postcodes', () => {
  it.each([
    ['ls14ap', 'LS1 4AP'],
    ['SW1A 1AA', 'SW1A 1AA'],
    ['  m1   1ae ', 'M1 1AE'],
    ['EC1A1BB', 'EC1A 1BB'],
  ])('prints %s as %s', (input, printed) => {
    expect(normalisePostcode(input)).toBe(printed);
    expect(
      issuesOf({ ...patient, contactPreferences: ['letter'], address: { lines: ['1 High Street', 'Leeds'], postcode: input } }),
    ).toEqual([]);
  });

  it.each(['12345', 'LS1', 'LS1 4A', 'L$1 4AP', 'QQQ 1AA'])('refuses %s, naming the field and not echoing it', (postcode) => {
    const issues = issuesOf({ ...patient, contactPreferences: ['letter'], address: { lines: ['1 High Street', 'Leeds'], postcode } });
    expect(issues.map((i) => i.path)).toEqual(['address.postcode']);
    expect(JSON.stringify(issues)).not.toContain(postcode);
  });
});

describe('the patient block of a request', () => {
  it('keeps the ordered preferences and makes the first one the preferred channel', () => {
    const p = requestPatientSchema.parse({
      ...patient,
      mobile: '07911 123456',
      email: 'ann@example.org',
      contactPreferences: ['sms', 'email'],
    });
    expect(p).toMatchObject({ mobile: '+447911123456', preferredChannel: 'sms', contactPreferences: ['sms', 'email'] });
  });

  it('still takes the older preferredChannel alone', () => {
    expect(requestPatientSchema.parse({ ...patient, email: 'ann@example.org', preferredChannel: 'email' }).preferredChannel).toBe('email');
  });

  it('refuses a bad mobile naming the field, never echoing the value', () => {
    const issues = issuesOf({ ...patient, mobile: '020 7946 0000', contactPreferences: ['sms'] });
    expect(issues.map((i) => i.path)).toEqual(['mobile']);
    expect(JSON.stringify(issues)).not.toContain('7946');
  });

  it('refuses a channel listed twice, a preferredChannel that is not the first preference, and no channel at all', () => {
    expect(issuesOf({ ...patient, email: 'a@b.org', contactPreferences: ['email', 'email'] }).map((i) => i.path)).toEqual([
      'contactPreferences',
    ]);
    expect(issuesOf({ ...patient, email: 'a@b.org', preferredChannel: 'sms', contactPreferences: ['email'] }).map((i) => i.path)).toEqual([
      'preferredChannel',
    ]);
    expect(issuesOf({ ...patient }).map((i) => i.path)).toEqual(['contactPreferences']);
  });
});
