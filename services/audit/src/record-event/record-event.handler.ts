import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { isSealedField, nhsNumberSchema, SEALED_PATIENT_FIELD, type EventEnvelope } from '@sonet/contracts';
import { PermanentError, SealedFieldOpener, type InboxBatchItem } from '@sonet/messaging';
import { AuditLog, type AppendBatchResult } from '../domain/audit-log';
import type { AuditEntryDraft, AuditHeaders } from '../domain/entry-document';

/** Where a record was read from, the Kafka headers it carried and its body, as received. */
export interface ReceivedFrom {
  readonly topic: string;
  readonly partition: number;
  /** Decimal string (64-bit). */
  readonly offset: string;
  /** Every header as it travelled (ce_*, traceparent, anything else a producer added). */
  readonly headers: Readonly<AuditHeaders>;
  /** The message body as received (its digest is kept). */
  readonly payload: Buffer;
}

/** The audit row for an event: attributes, headers and data exactly as received, plus where it was read. */
export function toAuditEntryDraft(envelope: EventEnvelope, position: ReceivedFrom, sealedNhsNumber?: string): AuditEntryDraft {
  return {
    ...(sealedNhsNumber ? { sealedNhsNumber } : {}),
    eventId: envelope.id,
    eventType: envelope.type,
    source: envelope.source,
    subject: envelope.subject,
    eventTime: envelope.time,
    topic: position.topic,
    partition: position.partition,
    kafkaOffset: position.offset,
    headers: { ...position.headers },
    data: envelope.data,
    payload: position.payload,
  };
}

/** What audit needs from any sealed patient block: the NHS number, for the keyed patient index. */
const sealedPatientSchema = z.looseObject({ nhsNumber: nhsNumberSchema });

/**
 * Records any events, of any type, known to the contracts or not: audit keeps what happened, not what it expects.
 * A sealed patient block (ADR 14) is kept sealed; it is opened with the referral's key only to index the entry by
 * the patient's keyed NHS number. Before the append lock, so key fetches never hold up the chain.
 */
@Injectable()
export class RecordEventHandler {
  private readonly logger = new Logger(RecordEventHandler.name);

  constructor(
    private readonly auditLog: AuditLog,
    private readonly opener: SealedFieldOpener,
  ) {}

  async execute(em: EntityManager, items: readonly InboxBatchItem[]): Promise<AppendBatchResult> {
    const drafts: AuditEntryDraft[] = [];
    for (const i of items) drafts.push(toAuditEntryDraft(i.envelope, i, await this.sealedNhsNumber(i.envelope)));
    return this.auditLog.appendBatch(em, drafts);
  }

  /**
   * The NHS number inside the event's sealed patient block, if it has one that opens. A destroyed key, or a block
   * that does not open (forged, moved, no key), leaves the entry unindexed by patient but recorded all the same;
   * a key that cannot be fetched now throws, and the inbox retries the batch.
   */
  private async sealedNhsNumber(envelope: EventEnvelope): Promise<string | undefined> {
    const data = envelope.data as { referralId?: unknown; patient?: unknown } | null;
    if (!data || typeof data !== 'object' || !isSealedField(data.patient) || typeof data.referralId !== 'string') return undefined;
    const context = { referralId: data.referralId, eventType: envelope.type, field: SEALED_PATIENT_FIELD };
    try {
      const opened = await this.opener.open(context, data.patient, sealedPatientSchema);
      if (opened.ok) return opened.value.nhsNumber;
      this.logger.log({ eventId: envelope.id, referralId: data.referralId, reason: opened.reason }, 'recorded without a patient index');
    } catch (e) {
      if (!(e instanceof PermanentError)) throw e;
      this.logger.warn({ eventId: envelope.id, referralId: data.referralId, reason: e.message }, 'recorded without a patient index');
    }
    return undefined;
  }
}
