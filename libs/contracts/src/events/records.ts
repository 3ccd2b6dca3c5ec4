import { z } from 'zod';
import { defineEvent } from '../registry';
import { Topics } from '../topics';
import { odsCodeSchema } from '../identifiers';

export const documentKindSchema = z.enum(['test-results', 'imaging', 'clinic-letters']);

export const RecordsTransferRequested = defineEvent({
  type: 'records.transfer-requested.v1',
  topic: Topics.recordsCommands,
  description:
    'The referral process asks records-transfer to send the relevant results and imaging from the original organisation to the new team. Only sent with a recorded lawful basis.',
  schema: z.object({
    referralId: z.uuid().describe('the referral the records belong to'),
    transferId: z.uuid().describe('the transfer; stable across retries of the request'),
    sourceOrganisation: odsCodeSchema.describe('ODS code of the organisation holding the results and imaging'),
    targetOrganisation: odsCodeSchema.nullable().describe('null until the GP has chosen the new team'),
    documentKinds: z.array(documentKindSchema).min(1).describe('which relevant records to send'),
    lawfulBasis: z.object({
      basis: z.enum(['explicit-consent']),
      recordedAt: z.iso.datetime({ offset: false }),
    }).describe('the recorded lawful basis; nothing is sent without one (rule 4)'),
    requestedAt: z.iso.datetime({ offset: false }).describe('when the transfer was requested (UTC)'),
  }),
});
export type RecordsTransferRequestedData = z.infer<typeof RecordsTransferRequested.schema>;

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
      .array(z.object({ documentId: z.string(), kind: documentKindSchema, sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().nonnegative() }))
      .describe('what was sent, with a SHA-256 digest per document'),
  }),
});

export const RecordsTransferFailed = defineEvent({
  type: 'records.transfer-failed.v1',
  topic: Topics.recordsEvents,
  description: 'The transfer gave up after its retries; operations and the receiving team need to act.',
  schema: z.object({ referralId: z.uuid(), transferId: z.uuid(), reason: z.string() }),
});
