import { z } from 'zod';
import { defineEvent } from '../registry';
import { Topics } from '../topics';
import { nhsNumberSchema, odsCodeSchema } from '../identifiers';
import { sealed } from '../sealed';

export const documentKindSchema = z.enum(['test-results', 'imaging', 'clinic-letters']);
export type DocumentKind = z.infer<typeof documentKindSchema>;

/** What `records.transfer-requested.*` says besides the patient (the same in every version). */
const transferRequestedFields = {
  referralId: z.uuid().describe('the referral the records belong to'),
  transferId: z.uuid().describe('the transfer; stable across retries of the request'),
  sourceOrganisation: odsCodeSchema.describe('ODS code of the organisation holding the results and imaging'),
  targetOrganisation: odsCodeSchema.nullable().describe('null until the GP has chosen the new team'),
  documentKinds: z.array(documentKindSchema).min(1).describe('which relevant records to send'),
  lawfulBasis: z
    .object({
      basis: z.enum(['explicit-consent']),
      recordedAt: z.iso.datetime({ offset: false }),
    })
    .nullable()
    .describe('the recorded lawful basis; null = none recorded, and the transfer is refused without reading anything (rule 4)'),
  requestedAt: z.iso.datetime({ offset: false }).describe('when the transfer was requested (UTC)'),
  specialty: z.string().min(1).max(100).optional().describe("the original pathway's specialty: what is relevant to send"),
  sourceTeamId: z.string().min(1).max(40).optional().describe('the original clinical team'),
  targetTeamId: z.string().min(1).max(40).optional().describe('the receiving clinical team'),
  referringPractice: odsCodeSchema.optional().describe('the GP practice that referred: its GPs may review the manifest'),
};

/** Who the records are about: what records-transfer searches the source for. The plaintext of v2's sealed `patient`. */
export const transferPatientSchema = z.object({
  nhsNumber: nhsNumberSchema.describe('the patient whose records are sent (searched for at the source)'),
});

/** Superseded by v2 (ADR 14): carried the NHS number in clear. No longer produced; still consumed (replays). */
export const RecordsTransferRequested = defineEvent({
  type: 'records.transfer-requested.v1',
  topic: Topics.recordsCommands,
  description:
    'The referral process asks records-transfer to send the relevant results and imaging. Superseded by records.transfer-requested.v2 (no longer produced): this version carried the NHS number in clear.',
  schema: z.object({
    ...transferRequestedFields,
    patient: transferPatientSchema
      .optional()
      .describe('who the records are about; commands from before records moved for real lack it and fail with that reason'),
  }),
});
export type RecordsTransferRequestedData = z.infer<typeof RecordsTransferRequested.schema>;

export const RecordsTransferRequestedV2 = defineEvent({
  type: 'records.transfer-requested.v2',
  topic: Topics.recordsCommands,
  description:
    'The referral process asks records-transfer to send the relevant results and imaging from the original organisation to the new team. Only sent with a recorded lawful basis. ' +
    "The patient's NHS number is sealed under the referral's data key (ADR 14).",
  schema: z.object({
    ...transferRequestedFields,
    patient: sealed('{ nhsNumber }: the patient whose records are sent (searched for at the source)'),
  }),
});
export type RecordsTransferRequestedV2Data = z.infer<typeof RecordsTransferRequestedV2.schema>;

export const RecordsTransferQueued = defineEvent({
  type: 'records.transfer-queued.v1',
  topic: Topics.recordsEvents,
  description: 'records-transfer has recorded a transfer request and holds it until it can run.',
  schema: z.object({
    referralId: z.uuid().describe('the referral'),
    transferId: z.uuid().describe('the transfer'),
    status: z.enum(['awaiting-target', 'ready']).describe('awaiting-target until the GP has chosen the new team'),
    queuedAt: z.iso.datetime({ offset: false }).describe('when records-transfer recorded the request (UTC)'),
  }),
});
export type RecordsTransferQueuedData = z.infer<typeof RecordsTransferQueued.schema>;

export const RecordsTransferCancelRequested = defineEvent({
  type: 'records.transfer-cancel-requested.v1',
  topic: Topics.recordsCommands,
  description: 'The referral ended before its records were sent (e.g. withdrawn): stop and send nothing more.',
  schema: z.object({
    referralId: z.uuid(),
    transferId: z.uuid(),
    reason: z.string().describe('why the transfer is cancelled'),
  }),
});

export const RecordsTransferCompleted = defineEvent({
  type: 'records.transfer-completed.v1',
  topic: Topics.recordsEvents,
  description: 'Every relevant document reached the receiving organisation and was acknowledged; the digests prove what was sent (rule 4).',
  schema: z.object({
    referralId: z.uuid(),
    transferId: z.uuid(),
    documents: z
      .array(
        z.object({
          documentId: z.string(),
          kind: documentKindSchema,
          sha256: z.string().regex(/^[0-9a-f]{64}$/),
          bytes: z.number().int().nonnegative(),
        }),
      )
      .describe('what was sent, with a SHA-256 digest per document'),
  }),
});

export const RecordsTransferFailed = defineEvent({
  type: 'records.transfer-failed.v1',
  topic: Topics.recordsEvents,
  description: 'The transfer gave up after its retries; operations and the receiving team need to act.',
  schema: z.object({ referralId: z.uuid(), transferId: z.uuid(), reason: z.string() }),
});

export const transferItemKindSchema = z.enum(['document', 'diagnostic-report', 'imaging-study']);
export type TransferItemKind = z.infer<typeof transferItemKindSchema>;
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
const transferRef = {
  referralId: z.uuid().describe('the referral'),
  transferId: z.uuid().describe('the transfer'),
};
const itemRef = {
  ...transferRef,
  itemId: z.uuid().describe('the manifest item'),
  kind: transferItemKindSchema,
  sourceReference: z.string().max(300).describe('where the item is at the source: a FHIR reference or a DICOM series UID'),
};

export const RecordsTransferRefused = defineEvent({
  type: 'records.transfer-refused.v1',
  topic: Topics.recordsEvents,
  description: 'No lawful basis was recorded for the transfer: nothing was read at the source and nothing was sent (rule 4).',
  schema: z.object({ ...transferRef, reason: z.string().max(500), refusedAt: z.iso.datetime({ offset: false }) }),
});

export const RecordsTransferStarted = defineEvent({
  type: 'records.transfer-started.v1',
  topic: Topics.recordsEvents,
  description:
    'records-transfer found the relevant records at the source and built the manifest: counts and bytes per kind. Items follow one by one.',
  schema: z.object({
    ...transferRef,
    sourceOrganisation: odsCodeSchema,
    targetOrganisation: odsCodeSchema,
    items: z.number().int().nonnegative().describe('items in the manifest that will be sent'),
    excluded: z.number().int().nonnegative().describe('items found but not relevant (kept in the manifest for the GP to add)'),
    startedAt: z.iso.datetime({ offset: false }),
  }),
});

export const RecordsItemSent = defineEvent({
  type: 'records.item-sent.v1',
  topic: Topics.recordsEvents,
  description: 'One manifest item reached the receiving organisation (bytes streamed, never through Kafka).',
  schema: z.object({
    ...itemRef,
    targetReference: z.string().max(300).describe('where it is now at the target'),
    sha256: sha256Hex.describe("SHA-256 of the bytes sent (for imaging: over the study's instance digests, see the service README)"),
    bytes: z.number().int().nonnegative(),
    instances: z.number().int().nonnegative().optional().describe('imaging: instances in the study'),
    sentAt: z.iso.datetime({ offset: false }),
  }),
});

export const RecordsItemAcknowledged = defineEvent({
  type: 'records.item-acknowledged.v1',
  topic: Topics.recordsEvents,
  description: 'The item was read back from the receiving organisation and its digest matched what was sent.',
  schema: z.object({
    ...itemRef,
    sha256: sha256Hex,
    digestMismatches: z.number().int().nonnegative().describe('times a read-back did not match and the item was sent again'),
    acknowledgedAt: z.iso.datetime({ offset: false }),
  }),
});

export const RecordsItemRefused = defineEvent({
  type: 'records.item-refused.v1',
  topic: Topics.recordsEvents,
  description: 'An item was not sent because of a configured limit (size, media type); it stays in the manifest with the reason.',
  schema: z.object({ ...itemRef, reason: z.string().max(500) }),
});

/** What a gap is: a study without its images, a series without its instances, a letter without its file. */
export const recordsGapKindSchema = z.enum(['imaging-study', 'imaging-series', 'attachment']);
export type RecordsGapKind = z.infer<typeof recordsGapKindSchema>;

export const RecordsGapsDetected = defineEvent({
  type: 'records.gaps-detected.v1',
  topic: Topics.recordsEvents,
  description:
    'Records referenced by what was sent but not found at the source (e.g. a study without its images, a letter without its file). The GP and the receiving team are told.',
  schema: z.object({
    ...transferRef,
    sourceOrganisation: odsCodeSchema,
    targetOrganisation: odsCodeSchema,
    gaps: z
      .array(
        z.object({
          reference: z.string().max(300),
          referencedBy: z.string().max(300),
          kind: recordsGapKindSchema,
          reason: z.string().max(300),
        }),
      )
      .min(1),
  }),
});

export const RecordsTransferCancelled = defineEvent({
  type: 'records.transfer-cancelled.v1',
  topic: Topics.recordsEvents,
  description: 'The transfer stopped because the referral no longer needs it; items already sent stay recorded as sent.',
  schema: z.object({
    ...transferRef,
    reason: z.string().max(500),
    itemsSent: z.number().int().nonnegative(),
    itemsNotSent: z.number().int().nonnegative(),
    cancelledAt: z.iso.datetime({ offset: false }),
  }),
});

export const recordsTransferEvents = [
  RecordsTransferRequested,
  RecordsTransferRequestedV2,
  RecordsTransferCancelRequested,
  RecordsTransferQueued,
  RecordsTransferRefused,
  RecordsTransferStarted,
  RecordsItemSent,
  RecordsItemAcknowledged,
  RecordsItemRefused,
  RecordsGapsDetected,
  RecordsTransferCompleted,
  RecordsTransferFailed,
  RecordsTransferCancelled,
] as const;
