import { createEnvelope, RecordsTransferRequested, type RecordsTransferRequestedData } from '@sonet/contracts';
import { randomUUID } from 'node:crypto';

/** The command as records-transfer receives it; the handler's database effects are covered by the integration test. */
const command = (over: Partial<RecordsTransferRequestedData> = {}) =>
  createEnvelope<RecordsTransferRequestedData>({
    id: randomUUID(),
    type: RecordsTransferRequested.type,
    source: '/sonet/referral',
    subject: randomUUID(),
    data: {
      referralId: randomUUID(),
      transferId: randomUUID(),
      sourceOrganisation: 'RJ122',
      targetOrganisation: null,
      documentKinds: ['test-results', 'imaging'],
      lawfulBasis: { basis: 'explicit-consent', recordedAt: new Date().toISOString() },
      requestedAt: new Date().toISOString(),
      ...over,
    },
  });

describe('a records transfer request', () => {
  it('rule 4: is refused by its contract without a recorded lawful basis', () => {
    const { lawfulBasis: _none, ...withoutBasis } = command().data;
    expect(RecordsTransferRequested.schema.safeParse(withoutBasis).success).toBe(false);
  });

  it('names at least one kind of document to send', () => {
    expect(RecordsTransferRequested.schema.safeParse({ ...command().data, documentKinds: [] }).success).toBe(false);
  });

  it('may come before the GP has chosen the new team', () => {
    expect(RecordsTransferRequested.schema.safeParse(command({ targetOrganisation: null }).data).success).toBe(true);
  });
});
