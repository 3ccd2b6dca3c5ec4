import { Injectable } from '@nestjs/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { EventEnvelope } from '@sonet/contracts';
import { AuditLog, type AppendResult, type AuditEntryDraft } from '../domain/audit-log';
import type { AuditHeaders } from '../domain/entities';

/** Where a record was read from. */
export interface RecordPosition {
  readonly topic: string;
  readonly partition: number;
  /** Decimal string (64-bit). */
  readonly offset: string;
}

/**
 * The CloudEvents attributes and trace context as they travel in Kafka binary mode. The inbox hands over the
 * parsed envelope, whose attributes were checked against exactly these headers, so this is what was sent.
 */
export function cloudEventHeaders(envelope: EventEnvelope): AuditHeaders {
  return {
    ce_specversion: envelope.specversion,
    ce_id: envelope.id,
    ce_type: envelope.type,
    ce_source: envelope.source,
    ce_subject: envelope.subject,
    ce_time: envelope.time,
    ...(envelope.traceparent !== undefined ? { traceparent: envelope.traceparent } : {}),
    ...(envelope.tracestate !== undefined ? { tracestate: envelope.tracestate } : {}),
  };
}

/** The audit row for an event: attributes, headers and data exactly as received, plus where it was read. */
export function toAuditEntryDraft(envelope: EventEnvelope, position: RecordPosition): AuditEntryDraft {
  return {
    eventId: envelope.id,
    eventType: envelope.type,
    source: envelope.source,
    subject: envelope.subject,
    eventTime: envelope.time,
    topic: position.topic,
    partition: position.partition,
    kafkaOffset: position.offset,
    headers: cloudEventHeaders(envelope),
    data: envelope.data,
  };
}

/** Records any event, of any type, known to the contracts or not: audit keeps what happened, not what it expects. */
@Injectable()
export class RecordEventHandler {
  constructor(private readonly auditLog: AuditLog) {}

  execute(em: EntityManager, envelope: EventEnvelope, position: RecordPosition): Promise<AppendResult> {
    return this.auditLog.append(em, toAuditEntryDraft(envelope, position));
  }
}
