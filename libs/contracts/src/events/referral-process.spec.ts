import { ReferralCareRetained, ReferralGpDeclined, ReferralTriageRejected, ReferralWithdrawn, ReferralReferred } from './referral-process';

const pals = { name: 'PALS', phone: '01632 960 000', email: 'pals@x.nhs.invalid', url: 'https://x.nhs.invalid/pals' };
const referralId = '7d750c96-d3dc-40fe-b771-0a93884d126e';
const team = { ods: 'RTH01', name: 'Cardiology' };

describe('referral process events', () => {
  it.each([
    ['a GP decline', ReferralGpDeclined, { referralId, reason: 'r', declinedBy: { role: 'gp' }, nextSteps: 'n' }],
    ['a triage rejection', ReferralTriageRejected, { referralId, team, reason: 'r', nextSteps: 'n' }],
    ['a withdrawal', ReferralWithdrawn, { referralId, withdrawnBy: { role: 'patient' }, fromState: 'gp-review' }],
    ['care retained by the original team', ReferralCareRetained, { referralId, responsibleTeam: team, reason: 'r' }],
  ] as const)('rule 11: %s cannot be published without PALS contact', (_name, def, data) => {
    expect(def.schema.safeParse(data).success).toBe(false);
    expect(def.schema.safeParse({ ...data, pals }).success).toBe(true);
  });

  it('rule 1: a GP decline cannot be published without a reason', () => {
    expect(
      ReferralGpDeclined.schema.safeParse({ referralId, reason: '  ', declinedBy: { role: 'gp' }, nextSteps: 'n', pals }).success,
    ).toBe(false);
  });

  it('rule 3: a referral is always flagged as a second opinion', () => {
    const base = {
      referralId,
      referringPractice: 'A81001',
      originalTeam: { ods: 'RJ122', name: 'Cardiology' },
      targetTeam: team,
      specialty: 'cardiology',
      urgency: 'routine',
      triageDueAt: '2026-12-01T00:00:00.000Z',
      attempt: 1,
    };
    expect(ReferralReferred.schema.safeParse({ ...base, secondOpinion: true }).success).toBe(true);
    expect(ReferralReferred.schema.safeParse({ ...base, secondOpinion: false }).success).toBe(false);
  });
});
