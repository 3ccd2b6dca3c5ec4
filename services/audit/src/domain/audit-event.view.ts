import { parseEntry } from './entry-document';

/** An entry as read from audit_entry for the API (the canonical text is the source of everything shown). */
export interface EntryRow {
  seq: string;
  canonical: string;
  hash: string;
}

/** An audit entry as the HTTP API shows it. */
export interface AuditEventView {
  /** Position in the chain, a decimal string (64-bit); the `after` cursor takes it. */
  seq: string;
  eventId: string;
  type: string;
  source: string;
  /** The referral id. */
  subject: string;
  /** `ce_time` as sent. */
  time: string;
  topic: string;
  recordedAt: string;
  traceparent: string | null;
  /** The data as sent, with patient identifiers replaced by keyed digests (`hmac-sha256:...`). */
  data: unknown;
  /** SHA-256 of the body as received. */
  payloadSha256: string;
  /** The entry's hash in the chain (hex). */
  hash: string;
}

/**
 * The columns an entry is read with. `seq` comes back as text (a bigint does not fit a JS number): ORDER BY must name
 * the table's column (`audit_entry.seq`), or it sorts the text, where "10" comes before "9".
 */
export const ENTRY_COLUMNS = `seq::text as seq, canonical, encode(hash, 'hex') as hash`;

export function toAuditEventView(row: EntryRow): AuditEventView {
  const d = parseEntry(row.canonical);
  return {
    seq: row.seq,
    eventId: d.event.id,
    type: d.event.type,
    source: d.event.source,
    subject: d.event.subject,
    time: d.event.time,
    topic: d.received.topic,
    recordedAt: d.recordedAt,
    traceparent: d.headers.traceparent ?? null,
    data: d.event.data,
    payloadSha256: d.payloadSha256,
    hash: row.hash,
  };
}
