import { z } from 'zod';
import { documents } from '@sonet/service-kit';
import type { ChainBreak } from '../domain/chain-verifier';
import type { AuditEventView } from '../domain/audit-event.view';
import type { EventsPage } from '../query-events/query-events.handler';
import type { ReferralTimeline } from '../referral-timeline/referral-timeline.handler';
import type { DatabaseVerifyReport } from '../verify-log/verify-log';

/**
 * The answers of the audit API as its OpenAPI document shows them, checked at compile time against the types the
 * handlers build (`documents<T>()`) and at run time by the fuzz run (infra/local/fuzz.sh).
 */

const seq = z
  .string()
  .regex(/^[0-9]+$/)
  .describe('A position in the chain (64-bit, decimal)');

const auditEventSchema = documents<AuditEventView>()(
  z.object({
    seq,
    eventId: z.string(),
    type: z.string(),
    source: z.string(),
    subject: z.string().describe('The referral id.'),
    time: z.string().describe('ce_time as sent.'),
    topic: z.string(),
    recordedAt: z.string(),
    traceparent: z.string().nullable(),
    data: z.unknown().describe('The data as sent, with patient identifiers replaced by keyed digests.'),
    payloadSha256: z.string(),
    hash: z.string(),
  }),
);

export const eventsPageSchema = documents<EventsPage>()(
  z.object({ items: z.array(auditEventSchema), next: seq.nullable().describe('Pass as `after` for the next page; null on the last.') }),
);

export const referralTimelineSchema = documents<ReferralTimeline>()(z.object({ referralId: z.uuid(), items: z.array(auditEventSchema) }));

const chainBreakSchema = documents<ChainBreak>()(
  z.object({
    seq,
    reason: z.enum([
      'changed',
      'missing',
      'duplicate',
      'swapped',
      'moved',
      'reordered',
      'renumbered',
      'prefix-missing',
      'tail-missing',
      'checkpoint-mismatch',
      'checkpoint-signature',
      'checkpoint-unknown-key',
      'checkpoint-missing-in-database',
    ]),
    detail: z.string(),
  }),
);

export const verifyReportSchema = documents<DatabaseVerifyReport>()(
  z.object({
    ok: z.boolean(),
    chain: z.string(),
    entries: z.int(),
    firstSeq: seq.nullable(),
    lastSeq: seq.nullable(),
    head: z.string().nullable(),
    anchor: z.object({ seq, kind: z.string() }).nullable(),
    checkpointsChecked: z.int(),
    firstBreak: chainBreakSchema.nullable(),
    breaks: z.array(chainBreakSchema),
    durationMs: z.number(),
    schema: z.array(z.object({ what: z.string(), detail: z.string() })),
    externalCheckpoints: z.int(),
  }),
);

/** The evidence pack: one JSON object a line (entries, then the chain proof), or a FHIR R4 Bundle of AuditEvents. */
export const ndjsonSchema = z.string().describe('application/x-ndjson: one JSON object a line');
export const fhirBundleSchema = z.object({ resourceType: z.literal('Bundle'), type: z.string() }).loose();
