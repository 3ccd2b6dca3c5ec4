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
