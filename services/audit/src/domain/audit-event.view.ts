import type { AuditEntry } from './entities';

/** An audit entry as the HTTP API shows it. */
export interface AuditEventView {
  /** Global order of recording, a decimal string (64-bit); the `after` cursor takes it. */
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
  data: unknown;
}

export const toAuditEventView = (e: AuditEntry): AuditEventView => ({
  seq: String(e.seq),
  eventId: e.eventId,
  type: e.eventType,
  source: e.source,
  subject: e.subject,
  time: e.headers.ce_time ?? e.eventTime.toISOString(),
  topic: e.topic,
  recordedAt: e.recordedAt.toISOString(),
  traceparent: e.headers.traceparent ?? null,
  data: e.data,
});
