import { z } from 'zod';
import { documents } from '@sonet/service-kit';
import { ITEM_KINDS, ITEM_STATUSES, TRANSFER_STATUSES } from '../domain/entities';
import type { gapView, itemView, transferSummary } from '../get-transfers/transfer-view';

/**
 * The answers of the records-transfer API as its OpenAPI document shows them, checked at compile time against the
 * views the handlers build (`documents<T>()`) and at run time by the fuzz run (infra/local/fuzz.sh).
 */

const instant = z.iso.datetime({ offset: true });
const status = z.enum(TRANSFER_STATUSES);

export const transferSummarySchema = documents<ReturnType<typeof transferSummary>>()(
  z.object({
    transferId: z.uuid(),
    referralId: z.uuid(),
    sourceOrganisation: z.string(),
    targetOrganisation: z.string().nullable(),
    documentKinds: z.array(z.string()),
    lawfulBasis: z.string().nullable(),
    status,
    reason: z.string().nullable(),
    retries: z.int(),
    requestedAt: instant,
    receivedAt: instant,
    discoveredAt: instant.nullable(),
    sendingAt: instant.nullable(),
    finishedAt: instant.nullable(),
  }),
);

const itemBase = {
  itemId: z.uuid(),
  position: z.int(),
  kind: z.enum(ITEM_KINDS),
  title: z.string(),
  sourceReference: z.string(),
  targetReference: z.string().nullable(),
  mediaType: z.string(),
  size: z.number().nullable(),
  sha256: z.string().nullable(),
  recordDate: instant.nullable(),
  relevant: z.boolean(),
  relevance: z.string(),
  reviewedBy: z.string().nullable(),
  status: z.enum(ITEM_STATUSES),
  reason: z.string().nullable(),
  attempts: z.int(),
  digestMismatches: z.int(),
  sentAt: instant.nullable(),
  acknowledgedAt: instant.nullable(),
};
const itemSchema = documents<ReturnType<typeof itemView>>()(
  z.object({
    ...itemBase,
    instances: z.object({ total: z.int(), confirmed: z.int(), mismatches: z.int() }).optional().describe('DICOM instances of a study'),
  }),
);

const gapSchema = documents<ReturnType<typeof gapView>>()(
  z.object({
    reference: z.string(),
    referencedBy: z.string(),
    kind: z.enum(['imaging-study', 'imaging-series', 'attachment']),
    reason: z.string(),
    detectedAt: instant,
  }),
);

export const transferListSchema = z.object({ items: z.array(transferSummarySchema) });

export const transferSchema = z.object({
  ...transferSummarySchema.shape,
  manifestVersion: z.int(),
  items: z.array(itemSchema),
  gaps: z.array(gapSchema),
});

export const retriedSchema = z.object({ transferId: z.uuid(), status });

export const manifestSchema = z.object({ transferId: z.uuid(), status, manifestVersion: z.int(), items: z.array(itemSchema) });
