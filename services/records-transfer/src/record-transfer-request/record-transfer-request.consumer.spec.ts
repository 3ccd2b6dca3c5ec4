import { randomBytes, randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { buildEvent, sealField, SealedFieldOpener, type DataKey, type InboxRpcContext, type KeyLookup } from '@sonet/messaging';
import { RecordsTransferRequestedV2, type EventEnvelope, type EventMap } from '@sonet/contracts';
import type { RecordTransferRequestHandler } from './record-transfer-request.handler';
import { RecordTransferRequestConsumer } from './record-transfer-request.consumer';

const key: DataKey = { kid: 'kid-1', key: randomBytes(32) };

const requestedV2 = (referralId = randomUUID()) =>
  buildEvent(RecordsTransferRequestedV2, {
    id: randomUUID(),
    source: '/sonet/referral',
    subject: referralId,
    data: {
      referralId,
      transferId: randomUUID(),
      sourceOrganisation: 'RJ1',
      targetOrganisation: 'RTH',
      documentKinds: ['imaging'],
      lawfulBasis: { basis: 'explicit-consent', recordedAt: '2026-11-24T09:00:00.000Z' },
      requestedAt: '2026-11-24T09:00:00.000Z',
      patient: sealField(key, { referralId, eventType: RecordsTransferRequestedV2.type, field: 'patient' }, { nhsNumber: '9434765919' }),
    },
  }) as EventMap['records.transfer-requested.v2'];

const consumerWith = (lookup: () => Promise<KeyLookup>) => {
  const handled: EventEnvelope[] = [];
  const handler = { execute: async (_em: EntityManager, e: EventEnvelope) => handled.push(e) } as unknown as RecordTransferRequestHandler;
  const consumer = new RecordTransferRequestConsumer(handler, new SealedFieldOpener({ keyFor: lookup }));
  return {
    handled,
    run: (e: EventMap['records.transfer-requested.v2']) => consumer.onTransferRequestedV2(e, { inbox: { em: {} } } as InboxRpcContext),
  };
};

describe('records.transfer-requested.v2: the NHS number sealed under the referral’s key (ADR 14)', () => {
  it('opens it with the referral’s key and records the transfer as for v1', async () => {
    const { handled, run } = consumerWith(async () => key);
    await run(requestedV2());
    expect(handled[0]!.data).toMatchObject({ patient: { nhsNumber: '9434765919' } });
  });

  it('records nothing (and searches nothing) once the key was destroyed, without failing', async () => {
    const { handled, run } = consumerWith(async () => 'destroyed');
    await expect(run(requestedV2())).resolves.toBeUndefined();
    expect(handled).toEqual([]);
  });
});
