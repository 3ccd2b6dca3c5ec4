import { randomBytes, randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { buildEvent, sealField, SealedFieldOpener, type DataKey, type InboxRpcContext, type KeyLookup } from '@sonet/messaging';
import { ReferralRequestedV2, type EventEnvelope, type EventMap } from '@sonet/contracts';
import type { AcknowledgeReferralRequestHandler } from './acknowledge-referral-request.handler';
import { AcknowledgeReferralRequestConsumer } from './acknowledge-referral-request.consumer';

const key: DataKey = { kid: 'kid-1', key: randomBytes(32) };
const patient = { nhsNumber: '9434765919', name: 'Alex Example', email: 'alex@example.test', preferredChannel: 'email' as const };

const requestedV2 = (referralId = randomUUID(), sealedFor = referralId) =>
  buildEvent(ReferralRequestedV2, {
    id: randomUUID(),
    source: '/sonet/referral',
    subject: referralId,
    data: {
      referralId,
      referringPractice: 'A81001',
      originalTeam: { ods: 'RX1', name: 'Cardiology' },
      specialty: 'cardiology',
      urgency: 'routine',
      reason: 'second view',
      explainedByOriginalTeam: false,
      patient: sealField(key, { referralId: sealedFor, eventType: ReferralRequestedV2.type, field: 'patient' }, patient),
      requestedAt: '2026-11-24T09:00:00.000Z',
    },
  }) as EventMap['referral.requested.v2'];

const consumerWith = (lookup: () => Promise<KeyLookup>) => {
  const handled: EventEnvelope[] = [];
  const handler = {
    execute: async (_em: EntityManager, e: EventEnvelope) => (handled.push(e), []),
  } as unknown as AcknowledgeReferralRequestHandler;
  const consumer = new AcknowledgeReferralRequestConsumer(handler, new SealedFieldOpener({ keyFor: lookup }));
  const ctx = { inbox: { em: {} as EntityManager } } as InboxRpcContext;
  return { handled, run: (e: EventMap['referral.requested.v2']) => consumer.onReferralRequestedV2(e, ctx) };
};

describe('referral.requested.v2: the patient sealed under the referral’s key (ADR 14)', () => {
  it('opens the patient with the referral’s key and acknowledges as for v1', async () => {
    const { handled, run } = consumerWith(async () => key);
    const event = requestedV2();
    await run(event);
    expect(handled).toHaveLength(1);
    expect(handled[0]!.data).toMatchObject({ referralId: event.data.referralId, patient });
    expect(handled[0]!.id).toBe(event.id);
  });

  it('skips, deliberately and without failing, when the key was destroyed: nobody is contacted', async () => {
    const { handled, run } = consumerWith(async () => 'destroyed');
    await expect(run(requestedV2())).resolves.toBeUndefined();
    expect(handled).toEqual([]);
  });

  it('fails for good (dead letter) on a block sealed for another referral, and for retry while the key cannot be fetched', async () => {
    const moved = consumerWith(async () => key);
    await expect(moved.run(requestedV2(randomUUID(), randomUUID()))).rejects.toMatchObject({ name: 'SealedFieldError' });
    const down = consumerWith(async () => {
      throw new Error('the referral service could not be reached');
    });
    await expect(down.run(requestedV2())).rejects.toThrow('could not be reached');
    expect([...moved.handled, ...down.handled]).toEqual([]);
  });
});
