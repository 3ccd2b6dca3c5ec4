import { canonicalJson } from './canonical';
import { sha256 } from './chain';
import { protectIdentifiers, type PatientKeyer } from './patient-identifiers';

/** Kafka/CloudEvents headers as received. */
export type AuditHeaders = Record<string, string>;

/** A row to add to the audit log: the event as received and where it was read from. */
export interface AuditEntryDraft {
  readonly eventId: string;
  readonly eventType: string;
  readonly source: string;
  /** The referral id (the nil UUID for the log's own entries, e.g. a retention run). */
  readonly subject: string;
  /** `ce_time` as sent (ISO-8601 UTC, up to microseconds). */
  readonly eventTime: string;
  readonly topic: string;
  readonly partition: number;
  /** Kafka offset as a decimal string (offsets are 64-bit). */
  readonly kafkaOffset: string;
  readonly headers: AuditHeaders;
  readonly data: unknown;
  /** The message body exactly as received; only its SHA-256 is kept. */
  readonly payload: Buffer;
  /** The NHS number opened from the event's sealed patient block (ADR 14): only its keyed digest is kept, as patientKey. */
  readonly sealedNhsNumber?: string;
}

export const ENTRY_FORMAT = 'sonet.audit.entry/1';
/** Subject of the log's own entries (retention runs): no referral. */
export const NO_REFERRAL = '00000000-0000-0000-0000-000000000000';

/** The ce_* headers that are the event's own attributes, kept once, in `event`. */
const ATTRIBUTE_HEADERS = new Set(['ce_id', 'ce_type', 'ce_source', 'ce_subject', 'ce_time']);

/**
 * One entry of the log as hashed (its RFC 8785 form is the `canonical` column). Everything a query column holds
 * is in here, so the database's check constraint can hold each column to it and the hash covers them all.
 */
export interface EntryDocument {
  readonly format: typeof ENTRY_FORMAT;
  /** Position in the chain, decimal. */
  readonly seq: string;
  /** When the log recorded it (database clock, ms). */
  readonly recordedAt: string;
  readonly event: {
    readonly id: string;
    readonly type: string;
    readonly source: string;
    readonly subject: string;
    readonly time: string;
    readonly data: unknown;
  };
  /** Every header as received but the five ce_* attributes already in `event`. */
  readonly headers: AuditHeaders;
  readonly received: { readonly topic: string; readonly partition: number; readonly offset: string };
  /** SHA-256 (hex) of the body as received, before identifiers were replaced: proves what was sent against the producer's copy. */
  readonly payloadSha256: string;
  /** Paths in event.data whose values were replaced by keyed digests. */
  readonly protected: readonly string[];
  readonly index: EntryIndex;
}

/** What the queries filter on, besides the event's attributes. */
export interface EntryIndex {
  /** Who acted, where the event says (access events: the reader's subject). */
  readonly actor: string | null;
  /** Every ODS code the event names (reader, practice, teams, source and target organisations), sorted. */
  readonly organisations: readonly string[];
  /** HMAC of the patient's NHS number, where the event carried one. */
  readonly patientKey: string | null;
}

const ODS = /^[A-Z0-9]{3,10}$/;
const ORGANISATION_KEY = /^(ods|organisation|[a-z]+Organisation|[a-z]+Practice)$/;

/** The ODS codes an event names: values of keys like `ods`, `organisation`, `sourceOrganisation`, `referringPractice`. */
export function organisationsOf(data: unknown): string[] {
  const found = new Set<string>();
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (typeof v === 'string' && ORGANISATION_KEY.test(k) && ODS.test(v)) found.add(v);
        else walk(v);
      }
    }
  };
  walk(data);
  return [...found].sort();
}

/** The acting person or system: `actor.subject` when the event names one. */
export function actorOf(data: unknown): string | null {
  const actor = (data as { actor?: { subject?: unknown } } | null)?.actor;
  return typeof actor?.subject === 'string' ? actor.subject : null;
}

export interface BuiltEntry {
  readonly document: EntryDocument;
  readonly canonical: string;
}

/** The document and canonical text of a draft at a position of the chain. */
export function buildEntry(draft: AuditEntryDraft, seq: bigint, recordedAt: Date, keyer: PatientKeyer): BuiltEntry {
  const guarded = protectIdentifiers(draft.data, keyer);
  const headers: AuditHeaders = {};
  for (const [k, v] of Object.entries(draft.headers)) if (!ATTRIBUTE_HEADERS.has(k)) headers[k] = v;
  const document: EntryDocument = {
    format: ENTRY_FORMAT,
    seq: seq.toString(),
    recordedAt: recordedAt.toISOString(),
    event: {
      id: draft.eventId,
      type: draft.eventType,
      source: draft.source,
      subject: draft.subject,
      time: draft.eventTime,
      data: guarded.data,
    },
    headers,
    received: { topic: draft.topic, partition: draft.partition, offset: draft.kafkaOffset },
    payloadSha256: sha256(draft.payload).toString('hex'),
    protected: guarded.paths,
    index: {
      actor: actorOf(draft.data),
      organisations: organisationsOf(draft.data),
      patientKey: guarded.patientKey ?? (draft.sealedNhsNumber ? keyer.patientKey(draft.sealedNhsNumber) : null),
    },
  };
  return { document, canonical: canonicalJson(document) };
}

/** Reads a canonical entry back (for views and exports). */
export const parseEntry = (canonical: string): EntryDocument => JSON.parse(canonical) as EntryDocument;

/** The headers as they travelled: the attributes in `event` put back as ce_* headers. */
export const travelledHeaders = (d: EntryDocument): AuditHeaders => ({
  ...d.headers,
  ce_id: d.event.id,
  ce_type: d.event.type,
  ce_source: d.event.source,
  ce_subject: d.event.subject,
  ce_time: d.event.time,
});
