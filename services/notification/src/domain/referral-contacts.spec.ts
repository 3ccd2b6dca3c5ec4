import {
  ReferralOriginalTeamInformed,
  ReferralReferred,
  ReferralRequested,
  ReferralTriageRejected,
  ReferralWithdrawn,
  type EventDefinition,
  type ReferralRequestedData,
} from '@sonet/contracts';
import { buildEvent } from '@sonet/messaging';
import type { z } from 'zod';
import {
  applyToContacts,
  camel,
  CONTACT_COLUMNS,
  contactsFromRequested,
  resolveTeam,
  toRow,
  type ReferralContacts,
} from './referral-contacts';
import type { ReferralProcessEvent } from './referral-process-event';

const REFERRAL_ID = '5b8e7a57-6d3c-4f1e-8a55-2a1f7c3d9e10';
const NHS_NUMBER = '9434765919';
const pals = { name: 'PALS', phone: '01632 960 555', email: 'pals@general.nhs.invalid', url: 'https://general.nhs.invalid/pals' };
const originalTeam = { ods: 'RX1', name: 'Cardiology, General Hospital' };
const teamA = { ods: 'RY2', name: 'Cardiology, City Hospital', teamId: 'team-a', contactEmail: 'a@city.nhs.invalid' };
const teamB = { ods: 'RZ3', name: 'Cardiology, County Hospital', teamId: 'team-b', contactEmail: 'b@county.nhs.invalid' };

let n = 0;
const ev = <D extends EventDefinition>(def: D, data: z.input<D['schema']>) =>
  buildEvent(def, {
    id: `3f0c9a51-93d6-4c39-9d7e-0b0a0ab2${String(++n).padStart(4, '0')}`,
    source: '/sonet/referral',
    subject: REFERRAL_ID,
    data,
  });

const requested = (changes: Partial<ReferralRequestedData> = {}): ReferralRequestedData =>
  ev(ReferralRequested, {
    referralId: REFERRAL_ID,
    referringPractice: 'A81001',
    referringPracticeEmail: 'gp.a81001@nhs.invalid',
    originalTeam,
    specialty: 'cardiology',
    urgency: 'routine',
    reason: 'Would like a second view',
    explainedByOriginalTeam: true,
    patient: { nhsNumber: NHS_NUMBER, name: 'Alex Example', email: 'alex@example.test', preferredChannel: 'email' },
    requestedAt: '2026-11-24T09:00:00.000Z',
    ...changes,
  }).data as ReferralRequestedData;

const referred = (team: typeof teamA, attempt: number) =>
  ev(ReferralReferred, {
    referralId: REFERRAL_ID,
    secondOpinion: true,
    referringPractice: 'A81001',
    originalTeam: { ...originalTeam, contactEmail: 'cardio@general.nhs.invalid' },
    targetTeam: team,
    specialty: 'cardiology',
    urgency: 'urgent',
    triageDueAt: '2026-12-08T17:00:00.000Z',
    attempt,
  }) as unknown as ReferralProcessEvent;

const rejected = (team: typeof teamA) =>
  ev(ReferralTriageRejected, {
    referralId: REFERRAL_ID,
    team,
    reason: 'Not our field.',
    pals,
    nextSteps: 'Your GP can choose another team.',
  }) as unknown as ReferralProcessEvent;

describe('the per-referral contact projection', () => {
  const start = contactsFromRequested(requested());

  it('keeps from the request who to tell: patient, GP practice, original team', () => {
    expect(start).toEqual({
      referralId: REFERRAL_ID,
      urgency: 'routine',
      patient: { name: 'Alex Example', email: 'alex@example.test', mobile: undefined, address: undefined, preferences: ['email'] },
      gp: { ods: 'A81001', email: 'gp.a81001@nhs.invalid' },
      originalTeam: { name: originalTeam.name, ods: originalTeam.ods },
      originalTeamInformed: false,
      targetTeam: undefined,
      targetAttempt: undefined,
    });
  });

  it('never keeps the NHS number', () => {
    expect(JSON.stringify(start)).not.toContain(NHS_NUMBER);
  });

  it("takes the receiving team (and the original team's address and urgency) from the referral", () => {
    const after = applyToContacts(start, referred(teamA, 1));
    expect(after.targetTeam).toEqual({ name: teamA.name, ods: teamA.ods, teamId: 'team-a', email: 'a@city.nhs.invalid' });
    expect(after.targetAttempt).toBe(1);
    expect(after.originalTeam.email).toBe('cardio@general.nhs.invalid');
    expect(after.urgency).toBe('urgent');
  });

  it('replaces the receiving team when the GP refers to another team after a rejection', () => {
    const afterRejection = applyToContacts(applyToContacts(start, referred(teamA, 1)), rejected(teamA));
    expect(afterRejection.targetTeam).toBeUndefined();
    const afterSecond = applyToContacts(afterRejection, referred(teamB, 2));
    expect(afterSecond.targetTeam).toMatchObject({ name: teamB.name, email: 'b@county.nhs.invalid' });
    expect(afterSecond.targetAttempt).toBe(2);
  });

  it('never lets an older or repeated referral overwrite a newer team', () => {
    const current = applyToContacts(applyToContacts(start, referred(teamA, 1)), referred(teamB, 2));
    expect(applyToContacts(current, referred(teamA, 1)).targetTeam).toMatchObject({ name: teamB.name });
    const rejectedA = applyToContacts(applyToContacts(start, referred(teamA, 1)), rejected(teamA));
    expect(applyToContacts(rejectedA, referred(teamA, 1)).targetTeam).toBeUndefined();
  });

  it('ignores a rejection by a team that is not the current target', () => {
    const current = applyToContacts(start, referred(teamB, 2));
    expect(applyToContacts(current, rejected(teamA))).toBe(current);
  });

  it('remembers that the patient chose to tell the original team (rule 9)', () => {
    const informed = ev(ReferralOriginalTeamInformed, {
      referralId: REFERRAL_ID,
      originalTeam,
      requestedBy: { role: 'patient' },
    }) as unknown as ReferralProcessEvent;
    expect(applyToContacts(start, informed).originalTeamInformed).toBe(true);
  });

  it('changes nothing for events that do not change who to tell', () => {
    const withdrawn = ev(ReferralWithdrawn, {
      referralId: REFERRAL_ID,
      withdrawnBy: { role: 'patient' },
      fromState: 'gp-review',
      pals,
    }) as unknown as ReferralProcessEvent;
    expect(applyToContacts(start, withdrawn)).toBe(start);
  });

  it('keeps what later events added when the request is applied again (replay)', () => {
    const later: ReferralContacts = { ...applyToContacts(start, referred(teamA, 1)), originalTeamInformed: true };
    const again = contactsFromRequested(requested(), later);
    expect(again.targetTeam).toEqual(later.targetTeam);
    expect(again.originalTeamInformed).toBe(true);
    expect(again.originalTeam.email).toBe('cardio@general.nhs.invalid');
  });

  it("finds a team's known address when an event names the team without one", () => {
    const known = { name: teamA.name, ods: teamA.ods, teamId: 'team-a', email: 'a@city.nhs.invalid' };
    expect(resolveTeam({ ods: teamA.ods, name: teamA.name, teamId: 'team-a' }, known).email).toBe('a@city.nhs.invalid');
    expect(resolveTeam({ ods: teamA.ods, name: teamA.name }, known).email).toBe('a@city.nhs.invalid');
    expect(resolveTeam({ ods: teamB.ods, name: teamB.name, teamId: 'team-b' }, known).email).toBeUndefined();
    expect(resolveTeam({ ...teamB }, known).email).toBe('b@county.nhs.invalid');
  });
});

describe('the referral_contact row written in plain SQL', () => {
  it('has a column for every field of the row, and no other (a field added to one and not the other would be lost)', () => {
    const row = toRow(contactsFromRequested(requested()), new Date());
    expect([...CONTACT_COLUMNS].map(camel).sort()).toEqual(Object.keys(row).sort());
  });
});
