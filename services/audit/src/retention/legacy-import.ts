import type { MikroORM } from '@mikro-orm/postgresql';
import { nativeQuery } from '@sonet/service-kit';
import type { AuditLog } from '../domain/audit-log';
import type { AuditEntryDraft } from '../domain/entry-document';

interface LegacyRow {
  event_id: string;
  event_type: string;
  source: string;
  subject: string;
  event_time: Date;
  topic: string;
  partition: number;
  kafka_offset: string;
  headers: Record<string, string>;
  data: unknown;
}

/**
 * Appends the rows of the first version's table (audit_entry_v0, no chain) to the chain in their order, through
 * the normal write path (identifiers protected, hashed, checkpointed), then drops the old table. Idempotent:
 * event ids already in the chain are skipped. Returns null when there is nothing to import.
 */
export async function importLegacyEntries(orm: MikroORM, auditLog: AuditLog): Promise<number | null> {
  const em = orm.em.fork();
  const [exists] = await nativeQuery<{ t: string | null }>(em, `select to_regclass('audit_entry_v0')::text as t`);
  if (!exists?.t) return null;
  let after = '0';
  let total = 0;
  for (;;) {
    const rows = await nativeQuery<LegacyRow & { seq: string }>(
      em,
      `select seq::text as seq, event_id, event_type, source, subject, event_time, topic, partition, kafka_offset::text as kafka_offset, headers, data
       from audit_entry_v0 where seq > $1::bigint order by audit_entry_v0.seq limit 500`,
      [after],
    );
    if (rows.length === 0) break;
    const drafts: AuditEntryDraft[] = rows.map((r) => ({
      eventId: r.event_id,
      eventType: r.event_type,
      source: r.source,
      subject: r.subject,
      eventTime: r.headers.ce_time ?? new Date(r.event_time).toISOString(),
      topic: r.topic,
      partition: r.partition,
      kafkaOffset: r.kafka_offset,
      headers: r.headers,
      data: r.data,
      // The first version kept the data, not the bytes: the digest is of its JSON as stored.
      payload: Buffer.from(JSON.stringify(r.data), 'utf8'),
    }));
    const result = await em.transactional((tem) => auditLog.appendBatch(tem, drafts));
    total += result.recorded.length;
    after = rows[rows.length - 1]!.seq;
  }
  await em.execute('drop table audit_entry_v0');
  await em.execute('drop function if exists audit_entry_refuse_change()');
  return total;
}
