import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { randomBytes } from 'node:crypto';
import { sealField, SealedFieldOpener, type DataKey, type InboxBatchItem, type KeyLookup } from '@sonet/messaging';
import { createEnvelope, ReferralRequested, ReferralRequestedV2, toWireMessage, type EventEnvelope } from '@sonet/contracts';
import { buildEntry } from '../domain/entry-document';
import { PatientKeyer } from '../domain/patient-identifiers';
import type { AppendBatchResult, AuditEntryDraft, AuditLog } from '../domain/audit-log';
import { RecordEventHandler, toAuditEntryDraft, type ReceivedFrom } from './record-event.handler';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
/** Where the record was read, with the headers it travelled with (plus one a producer added on its own). */
const receivedAs = (env: EventEnvelope): ReceivedFrom => ({
  topic: 'referral.events.v1',
  partition: 4,
  offset: '9007199254740993',
  headers: { ...toWireMessage(env).headers, 'x-producer-note': 'kept' },
  payload: toWireMessage(env).value,
});

const envelope = (overrides: Partial<Parameters<typeof createEnvelope>[0]> = {}): EventEnvelope =>
  createEnvelope({
    id: randomUUID(),
    type: ReferralRequested.type,
    source: '/sonet/referral',
    subject: randomUUID(),
    time: '2026-03-04T05:06:07.089Z',
    data: { referralId: 'r-1', note: 'café ✓', nested: { n: 1, list: [1, 2], nothing: null } },
    ...overrides,
  });

describe('recording an event in the audit log', () => {
  describe('when an event arrives with trace context', () => {
    const env = envelope({ traceparent: TRACEPARENT, tracestate: 'sonet=1' });
    const draft = toAuditEntryDraft(env, receivedAs(env));

    it('keeps the CloudEvents attributes in their own columns', () => {
      expect(draft).toMatchObject({
        eventId: env.id,
        eventType: 'referral.requested.v1',
        source: '/sonet/referral',
        subject: env.subject,
        eventTime: '2026-03-04T05:06:07.089Z',
      });
    });

    it('keeps every header as it travelled: ce_*, trace context and any other', () => {
      expect(draft.headers).toEqual({
        'x-producer-note': 'kept',
        'content-type': 'application/json',
        ce_specversion: '1.0',
        ce_id: env.id,
        ce_type: 'referral.requested.v1',
        ce_source: '/sonet/referral',
        ce_subject: env.subject,
        ce_time: '2026-03-04T05:06:07.089Z',
        traceparent: TRACEPARENT,
        tracestate: 'sonet=1',
      });
    });

    it('keeps the data verbatim, nested values and unicode included', () => {
      expect(draft.data).toEqual({ referralId: 'r-1', note: 'café ✓', nested: { n: 1, list: [1, 2], nothing: null } });
    });

    it('notes the topic, partition and the 64-bit offset it was read from, without losing digits', () => {
      expect(draft).toMatchObject({ topic: 'referral.events.v1', partition: 4, kafkaOffset: '9007199254740993' });
    });
  });

  describe('when an event carries no trace context', () => {
    it('stores no trace headers rather than empty ones', () => {
      const headers = toAuditEntryDraft(envelope(), receivedAs(envelope())).headers;
      expect(headers).not.toHaveProperty('traceparent');
      expect(headers).not.toHaveProperty('tracestate');
    });
  });

  describe('when the time has microseconds', () => {
    it('passes ce_time on as a string, so the database keeps every digit', () => {
      expect(
        toAuditEntryDraft(envelope({ time: '2026-03-04T05:06:07.123456Z' }), receivedAs(envelope({ time: '2026-03-04T05:06:07.123456Z' })))
          .eventTime,
      ).toBe('2026-03-04T05:06:07.123456Z');
    });
  });

  describe('when the event type is not in the contracts', () => {
    it('records it all the same, data included', async () => {
      const appended: AuditEntryDraft[] = [];
      const auditLog = {
        appendBatch: async (_em: EntityManager, entries: readonly AuditEntryDraft[]): Promise<AppendBatchResult> => {
          appended.push(...entries);
          return { recorded: entries.map((e) => ({ eventId: e.eventId, seq: '1' })), duplicates: [], checkpoint: null };
        },
      } as unknown as AuditLog;
      const env = envelope({ type: 'someone-else.thing-happened.v7', data: ['not', 'an', 'object'] });

      const item: InboxBatchItem = { envelope: env, ...receivedAs(env) };
      const result = await new RecordEventHandler(auditLog, new SealedFieldOpener({ keyFor: async () => 'destroyed' as const })).execute(
        {} as EntityManager,
        [item],
      );

      expect(result.recorded).toEqual([{ eventId: env.id, seq: '1' }]);
      expect(appended).toEqual([toAuditEntryDraft(env, receivedAs(env))]);
      expect(appended[0]?.data).toEqual(['not', 'an', 'object']);
    });
  });

  describe('when the patient is sealed (ADR 14)', () => {
    const keyer = new PatientKeyer('a-test-patient-key-secret-of-32-characters');
    const key: DataKey = { kid: 'kid-1', key: randomBytes(32) };
    const nhsNumber = '9434765919';
    const sealedEvent = (referralId = randomUUID(), sealedFor = referralId) => {
      const patient = sealField(
        key,
        { referralId: sealedFor, eventType: ReferralRequestedV2.type, field: 'patient' },
        {
          nhsNumber,
          name: 'Alex Example',
          email: 'alex@example.test',
          preferredChannel: 'email',
        },
      );
      return envelope({ type: ReferralRequestedV2.type, subject: referralId, data: { referralId, patient } });
    };
    const record = async (env: EventEnvelope, lookup: () => Promise<KeyLookup>) => {
      const appended: AuditEntryDraft[] = [];
      const auditLog = {
        appendBatch: async (_em: EntityManager, entries: readonly AuditEntryDraft[]): Promise<AppendBatchResult> => {
          appended.push(...entries);
          return { recorded: [], duplicates: [], checkpoint: null };
        },
      } as unknown as AuditLog;
      await new RecordEventHandler(auditLog, new SealedFieldOpener({ keyFor: lookup })).execute({} as EntityManager, [
        { envelope: env, ...receivedAs(env) },
      ]);
      return buildEntry(appended[0]!, 1n, new Date('2026-03-04T05:06:07Z'), keyer);
    };

    it('keeps the block sealed in the entry and indexes the entry by the keyed NHS number it opens to', async () => {
      const env = sealedEvent();
      const { document, canonical } = await record(env, async () => key);
      expect(document.event.data).toEqual(env.data);
      expect(document.index.patientKey).toBe(keyer.patientKey(nhsNumber));
      for (const v of [nhsNumber, 'Alex', 'alex@example.test']) expect(canonical).not.toContain(v);
    });

    it('records it all the same, without a patient index, when the key is destroyed or the block does not open', async () => {
      expect((await record(sealedEvent(), async () => 'destroyed')).document.index.patientKey).toBeNull();
      const moved = sealedEvent(randomUUID(), randomUUID());
      expect((await record(moved, async () => key)).document.index.patientKey).toBeNull();
    });

    it('fails (the inbox retries) while the key cannot be fetched', async () => {
      await expect(
        record(sealedEvent(), async () => {
          throw new Error('the referral service could not be reached');
        }),
      ).rejects.toThrow('could not be reached');
    });
  });
});
