import { Injectable } from '@nestjs/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { EventEnvelope } from '@sonet/contracts';
import type { InboxBatchItem } from '@sonet/messaging';
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
export function toAuditEntryDraft(envelope: EventEnvelope, position: ReceivedFrom): AuditEntryDraft {
  return {
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

/** Records any events, of any type, known to the contracts or not: audit keeps what happened, not what it expects. */
@Injectable()
export class RecordEventHandler {
  constructor(private readonly auditLog: AuditLog) {}

  execute(em: EntityManager, items: readonly InboxBatchItem[]): Promise<AppendBatchResult> {
    return this.auditLog.appendBatch(
      em,
      items.map((i) => toAuditEntryDraft(i.envelope, i)),
    );
  }
}
