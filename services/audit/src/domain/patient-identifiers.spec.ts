import { randomUUID } from 'node:crypto';
import { buildEntry, organisationsOf, parseEntry } from './entry-document';
import { PatientKeyer, protectIdentifiers } from './patient-identifiers';
import { draftOf, testKeyer } from '../../test/test-chain';

describe('patient identifiers in the log', () => {
  const requested = {
    referralId: randomUUID(),
    referringPractice: 'A81001',
    originalTeam: { ods: 'RJ122', name: 'Cardiology' },
    patient: { nhsNumber: '9434765919', name: 'Ann Example', email: 'ann@example.org', preferredChannel: 'email' },
    pals: { name: 'PALS', email: 'pals@trust.example', phone: '0100 000 000' },
  };

  it('replaces the NHS number and every patient detail but the channel with keyed digests', () => {
    const { data, paths } = protectIdentifiers(requested, testKeyer);
    const text = JSON.stringify(data);
    expect(text).not.toContain('9434765919');
    expect(text).not.toContain('Ann Example');
    expect(text).not.toContain('ann@example.org');
    expect(paths).toEqual(['patient.nhsNumber', 'patient.name', 'patient.email']);
    expect((data as typeof requested).patient.preferredChannel).toBe('email');
    expect((data as typeof requested).patient.nhsNumber).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
  });

  it('keeps what is not about the patient: teams, practices, the PALS contact', () => {
    const { data } = protectIdentifiers(requested, testKeyer);
    expect(data).toMatchObject({ referringPractice: 'A81001', originalTeam: { ods: 'RJ122', name: 'Cardiology' }, pals: requested.pals });
  });

  it('gives the same lookup key for an NHS number however it was written, and another under another key', () => {
    const k = testKeyer.patientKey('943 476 5919');
    expect(k).toBe(testKeyer.patientKey('9434765919'));
    expect(protectIdentifiers(requested, testKeyer).patientKey).toBe(k);
    expect(new PatientKeyer('another-secret-key-for-another-deployment').patientKey('9434765919')).not.toBe(k);
  });

  it('refuses a key too short to keep NHS numbers from being guessed', () => {
    expect(() => new PatientKeyer('short')).toThrow(/32/);
  });

  it('puts the patient key, the organisations and no identifier into the entry', () => {
    const { canonical, document } = buildEntry(
      draftOf(requested.referralId, requested, 'referral.requested.v1'),
      1n,
      new Date(),
      testKeyer,
    );
    expect(canonical).not.toContain('9434765919');
    expect(document.index).toEqual({ actor: null, organisations: ['A81001', 'RJ122'], patientKey: testKeyer.patientKey('9434765919') });
    expect(parseEntry(canonical)).toEqual(document);
  });

  it('finds the organisations an access event names, and its actor', () => {
    const access = { actor: { subject: 'dr-who', role: 'clinician', organisation: 'RJ1' }, resource: { service: 'records-transfer' } };
    const { document } = buildEntry(draftOf(randomUUID(), access, 'access.recorded.v1'), 1n, new Date(), testKeyer);
    expect(document.index).toMatchObject({ actor: 'dr-who', organisations: ['RJ1'] });
    expect(organisationsOf({ sourceOrganisation: 'RJ1', targetOrganisation: 'RXH', note: 'RJ9' })).toEqual(['RJ1', 'RXH']);
  });
});
