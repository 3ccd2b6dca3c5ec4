import { Injectable } from '@nestjs/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuditHeaders } from './entities';

/** A row to add to the audit log: the event as received and where it was read from. */
export interface AuditEntryDraft {
  readonly eventId: string;
  readonly eventType: string;
  readonly source: string;
  /** The referral id. */
  readonly subject: string;
  /** `ce_time` as sent (ISO-8601 UTC); PostgreSQL keeps up to microseconds, a JS Date only milliseconds. */
  readonly eventTime: string;
  readonly topic: string;
  readonly partition: number;
  /** Kafka offset as a decimal string (offsets are 64-bit). */
  readonly kafkaOffset: string;
  readonly headers: AuditHeaders;
  readonly data: unknown;
}

export type AppendResult = { readonly outcome: 'recorded'; readonly seq: string } | { readonly outcome: 'duplicate' };

/** Transaction-scoped advisory lock key ("AUDT") that serialises appends. */
export const AUDIT_APPEND_LOCK = 0x41_55_44_54;

export class AppendOutsideTransactionError extends Error {
  constructor() {
    super('AuditLog.append needs a transactional EntityManager: the append lock is held until commit');
    this.name = 'AppendOutsideTransactionError';
  }
}

/**
 * The only write path into audit_entry. Appends take a transaction-scoped lock, so entries commit in seq
 * order: a reader paging with `after=<seq>` can never pass a lower seq that commits later. The hash chain
 * of the tamper-evidence issue hangs off the same lock (read the previous entry's hash, write this one's),
 * and month partitioning changes only the statement below; callers stay as they are.
 */
@Injectable()
export class AuditLog {
  async append(em: EntityManager, entry: AuditEntryDraft): Promise<AppendResult> {
    if (!em.isInTransaction()) throw new AppendOutsideTransactionError();
    await em.execute('select pg_advisory_xact_lock(?)', [AUDIT_APPEND_LOCK]);
    const rows = await em.execute<{ seq: string }[]>(
      `insert into audit_entry (event_id, event_type, source, subject, event_time, topic, partition, kafka_offset, headers, data)
       values (?, ?, ?, ?, ?::timestamptz, ?, ?, ?, ?::jsonb, ?::jsonb)
       on conflict (event_id) do nothing
       returning seq`,
      [
        entry.eventId,
        entry.eventType,
        entry.source,
        entry.subject,
        entry.eventTime,
        entry.topic,
        entry.partition,
        entry.kafkaOffset,
        JSON.stringify(entry.headers),
        JSON.stringify(entry.data),
      ],
    );
    const [row] = rows;
    return row ? { outcome: 'recorded', seq: String(row.seq) } : { outcome: 'duplicate' };
  }
}
