import type { Principal } from '@sonet/auth';
import {
  isPartyTo,
  listScope,
  maySeeReferral,
  relationshipsTo,
  type Party,
  type ReferralAccessFacts,
  type Relationship,
  type WorklistView,
} from './access';

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

/**
 * The policy as a table: role × how the principal's organisation stands to the referral × what it may do. One
 * table for reads (maySeeReferral), decisions (isPartyTo) and worklists (listScope), so the three cannot drift.
 */
describe('the referral access policy, as a table', () => {
  // The referral: from practice A81001, original team at site RJ122 (trust RJ1), referred to site RTH01 (trust RTH).
  type Row = [
    role: Principal['role'],
    relation: string,
    organisation: string,
    nhsNumber: string | undefined,
    sees: boolean,
    relationships: Relationship[],
  ];
  const rows: Row[] = [
    ['gp', 'the referring practice', 'A81001', undefined, true, ['referring-gp']],
    ['gp', 'another practice', 'B82005', undefined, false, []],
    ['gp', 'the original site (a GP is never a team)', 'RJ122', undefined, false, []],
    ['clinician', 'the original site', 'RJ122', undefined, true, ['original-team']],
    ['clinician', 'the original trust', 'RJ1', undefined, true, ['original-team']],
    ['clinician', 'the receiving site', 'RTH01', undefined, true, ['receiving-team']],
    ['clinician', 'the receiving trust', 'RTH', undefined, true, ['receiving-team']],
    ['clinician', 'an unrelated trust', 'RXF', undefined, false, []],
    ['clinician', 'another site of the original trust', 'RJ199', undefined, false, []],
    ['clinician', 'the referring practice (a clinician is never a GP)', 'A81001', undefined, false, []],
    ['patient', 'the patient', 'PATIENT', '9434765919', true, ['patient']],
    ['patient', 'another patient', 'PATIENT', '9999999999', false, []],
    ['patient', 'no NHS number in the token', 'PATIENT', undefined, false, []],
    ['ops', 'any', 'X26', undefined, true, ['operations']],
    ['auditor', 'any', 'X26', undefined, false, []],
    ['pals', 'the original trust', 'RJ1', undefined, false, []],
  ];

  it.each(rows)('%s of %s (%s, NHS number %s): sees=%s, stands as %j', (role, _relation, organisation, nhsNumber, sees, relationships) => {
    const principal = who(role, organisation, nhsNumber);
    expect(maySeeReferral(principal, referral)).toBe(sees);
    expect(relationshipsTo(principal, referral)).toEqual(relationships);
  });

  const parties: [Party[], Principal, boolean][] = [
    [['referring-gp'], who('gp', 'A81001'), true],
    [['referring-gp'], who('gp', 'B82005'), false],
    [['receiving-team'], who('clinician', 'RTH'), true],
    [['receiving-team'], who('clinician', 'RJ1'), false], // the original team sees it but does not triage it
    [['receiving-team'], who('ops', 'X26'), false], // operations see everything and decide nothing
    [['patient', 'referring-gp'], who('patient', 'PATIENT', '9434765919'), true],
    [['patient', 'referring-gp'], who('gp', 'A81001'), true],
    [['patient', 'referring-gp'], who('clinician', 'RTH'), false],
  ];
  it.each(parties)('a decision for %j: %j is a party: %s', (ps, principal, expected) => {
    expect(isPartyTo(principal, referral, ps)).toBe(expected);
  });

  it('does not make a receiving team of a referral not yet referred', () => {
    expect(isPartyTo(who('clinician', 'RTH'), { ...referral, targetTeamOds: null }, ['receiving-team'])).toBe(false);
  });

  const scopes: [Principal, WorklistView | undefined, unknown][] = [
    [who('gp', 'A81001'), undefined, { referringPractice: 'A81001' }],
    [who('gp', 'A81001'), 'practice', { referringPractice: 'A81001' }],
    [who('clinician', 'RTH01'), undefined, { targetTeamOds: 'RTH01' }],
    [who('clinician', 'RTH'), 'receiving', { $or: [{ targetTeamOds: 'RTH' }, { targetTeamOds: { $like: 'RTH__' } }] }],
    [who('clinician', 'RJ1'), 'original', { $or: [{ originalTeamOds: 'RJ1' }, { originalTeamOds: { $like: 'RJ1__' } }] }],
    [who('patient', 'PATIENT', '9434765919'), undefined, { patient: { nhsNumber: '9434765919' } }],
    [who('patient', 'PATIENT', '9434765919'), 'mine', { patient: { nhsNumber: '9434765919' } }],
    [who('ops', 'X26'), undefined, {}],
    [who('ops', 'X26'), 'receiving', {}],
  ];
  it.each(scopes)('lists for %j, view %s: %j', (principal, view, scope) => {
    expect(listScope(principal, view)).toEqual(scope);
  });

  const refusals: [Principal, WorklistView | undefined][] = [
    [who('gp', 'A81001'), 'all'],
    [who('gp', 'A81001'), 'receiving'],
    [who('clinician', 'RTH'), 'practice'],
    [who('clinician', 'RTH'), 'mine'],
    [who('patient', 'PATIENT', '9434765919'), 'practice'],
    [who('auditor', 'X26'), undefined],
    [who('pals', 'RJ1'), undefined],
  ];
  it.each(refusals)('refuses %j view %s with 403', (principal, view) => {
    expect(() => listScope(principal, view)).toThrow(expect.objectContaining({ status: 403 }) as Error);
  });

  /** The SQL scope and the in-memory check agree: a referral in a principal's list is one it may see. */
  it('lists only referrals the principal may see (the list scope implies maySeeReferral)', () => {
    const matches = (scope: Record<string, unknown>, r: ReferralAccessFacts): boolean =>
      Object.entries(scope).every(([k, v]) => {
        if (k === '$or') return (v as Record<string, unknown>[]).some((s) => matches(s, r));
        if (k === 'patient') return (v as { nhsNumber: string }).nhsNumber === r.patientNhsNumber;
        const actual = (r as unknown as Record<string, string | null>)[k] ?? null;
        if (v && typeof v === 'object' && '$like' in v)
          return !!actual && new RegExp(`^${String(v.$like).replace(/_/g, '.')}$`).test(actual);
        return actual === v;
      });
    const candidates: ReferralAccessFacts[] = [
      referral,
      { ...referral, targetTeamOds: null },
      { ...referral, referringPractice: 'B82005', patientNhsNumber: '9999999999' },
    ];
    for (const [role, , organisation, nhsNumber] of rows) {
      const principal = who(role, organisation, nhsNumber);
      for (const view of [undefined, 'practice', 'receiving', 'original', 'mine', 'all'] as const) {
        let scope: Record<string, unknown>;
        try {
          scope = listScope(principal, view) as Record<string, unknown>;
        } catch {
          continue;
        }
        for (const r of candidates) if (matches(scope, r)) expect(maySeeReferral(principal, r)).toBe(true);
      }
    }
  });
});
