import type { Principal } from '@sonet/auth';
import { maySeeReferral, type ReferralAccessFacts } from './access';

const referral: ReferralAccessFacts = {
  referringPractice: 'A81001',
  originalTeamOds: 'RJ122',
  targetTeamOds: 'RTH01',
  patientNhsNumber: '9434765919',
};
const who = (role: Principal['role'], organisation: string, nhsNumber?: string): Principal => ({
  subject: 's',
  role,
  organisation,
  ...(nhsNumber ? { nhsNumber } : {}),
});

describe('who may see a referral', () => {
  it('lets the referring GP practice see it, and no other practice', () => {
    expect(maySeeReferral(who('gp', 'A81001'), referral)).toBe(true);
    expect(maySeeReferral(who('gp', 'B82005'), referral)).toBe(false);
  });

  it('lets clinicians of the original and the receiving organisation see it, by site or by trust', () => {
    expect(maySeeReferral(who('clinician', 'RJ122'), referral)).toBe(true);
    expect(maySeeReferral(who('clinician', 'RJ1'), referral)).toBe(true);
    expect(maySeeReferral(who('clinician', 'RTH'), referral)).toBe(true);
    expect(maySeeReferral(who('clinician', 'RXF'), referral)).toBe(false);
  });

  it('does not let a receiving team see it before the GP has chosen them', () => {
    expect(maySeeReferral(who('clinician', 'RTH'), { ...referral, targetTeamOds: null })).toBe(false);
  });

  it('lets the patient see their own referral only', () => {
    expect(maySeeReferral(who('patient', 'A81001', '9434765919'), referral)).toBe(true);
    expect(maySeeReferral(who('patient', 'A81001', '9999999999'), referral)).toBe(false);
  });

  it('keeps auditors and PALS to their own tools', () => {
    expect(maySeeReferral(who('auditor', 'X26'), referral)).toBe(false);
    expect(maySeeReferral(who('pals', 'RJ1'), referral)).toBe(false);
  });
});
