import { defineEntity, p } from '@mikro-orm/core';

/** The CloudEvents attributes and trace context as Kafka headers (`ce_id`, `ce_type`, …, `traceparent`). */
export type AuditHeaders = Record<string, string>;

/**
 * One event as the audit service received it. Read-only for the ORM: rows are written only by
 * AuditLog.append (one insert, never an update), and the database refuses UPDATE and DELETE.
 */
export const AuditEntrySchema = defineEntity({
  name: 'AuditEntry',
  tableName: 'audit_entry',
  readonly: true,
  properties: {
    /** Global order of recording; 64-bit, so kept as a decimal string. */
    seq: p.bigint('string').primary().autoincrement(),
    eventId: p.uuid().unique(),
    eventType: p.text(),
    source: p.text(),
    /** The referral id. */
    subject: p.uuid(),
    eventTime: p.datetime(),
    topic: p.text(),
    partition: p.integer(),
    kafkaOffset: p.bigint('string'),
    headers: p.json<AuditHeaders>(),
    data: p.json<unknown>(),
    recordedAt: p.datetime(),
  },
});
export class AuditEntry extends AuditEntrySchema.class {}
AuditEntrySchema.setClass(AuditEntry);

export const auditEntities = [AuditEntrySchema];
