import { admissionOf, NO_LAWFUL_BASIS } from './admission';

const transfer = (over: Partial<Parameters<typeof admissionOf>[0]> = {}): Parameters<typeof admissionOf>[0] => ({
  status: 'ready',
  lawfulBasis: 'explicit-consent',
  consentRecordedAt: new Date('2026-11-01T00:00:00Z'),
  nhsNumber: '9991000011',
  targetOrganisation: 'RTH',
  discoveredAt: null,
  ...over,
});

describe('admitting a transfer (rule 4: lawful basis first)', () => {
  it('refuses a transfer with no lawful basis recorded, before anything else', () => {
    expect(admissionOf(transfer({ lawfulBasis: null }))).toEqual({ next: 'refused', reason: NO_LAWFUL_BASIS, already: false });
    expect(admissionOf(transfer({ consentRecordedAt: null, nhsNumber: null }))).toMatchObject({ next: 'refused' });
  });
  it('stays refused when asked again', () => {
    expect(admissionOf(transfer({ status: 'refused' }))).toMatchObject({ next: 'refused', already: true });
  });
  it('cannot run without the patient or the receiving organisation', () => {
    expect(admissionOf(transfer({ nhsNumber: null }))).toMatchObject({ next: 'cannot-run', type: 'NoPatientIdentifier' });
    expect(admissionOf(transfer({ targetOrganisation: null }))).toMatchObject({ next: 'cannot-run', type: 'NoTarget' });
  });
  it('discovers a new transfer, and one that failed before its manifest was built', () => {
    expect(admissionOf(transfer())).toEqual({ next: 'discover' });
    expect(admissionOf(transfer({ status: 'failed' }))).toEqual({ next: 'discover' });
  });
  it('sends what is left of a built manifest (a retry or a resumed run)', () => {
    for (const status of ['review', 'sending', 'failed'] as const)
      expect(admissionOf(transfer({ status, discoveredAt: new Date() }))).toEqual({ next: 'send' });
  });
  it('leaves a finished transfer as it is', () => {
    expect(admissionOf(transfer({ status: 'completed' }))).toEqual({ next: 'finished' });
    expect(admissionOf(transfer({ status: 'cancelled' }))).toEqual({ next: 'finished' });
  });
});
