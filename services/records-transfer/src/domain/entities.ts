import { defineEntity, p } from '@mikro-orm/core';

export const TRANSFER_STATUSES = ['awaiting-target', 'ready', 'in-progress', 'completed', 'failed', 'cancelled'] as const;

/** A request to move a referral's results and imaging from the original organisation to the new team. */
export const TransferRequestSchema = defineEntity({
  name: 'TransferRequest',
  tableName: 'transfer_request',
  properties: {
    id: p.uuid().primary(),
    referralId: p.uuid().index(),
    sourceOrganisation: p.string().length(10),
    targetOrganisation: p.string().length(10).nullable(),
    documentKinds: p.array(),
    lawfulBasis: p.string().length(40),
    consentRecordedAt: p.datetime(),
    status: p.enum(TRANSFER_STATUSES),
    requestedAt: p.datetime(),
    receivedAt: p.datetime(),
    /** The command's event id, for tracing a transfer back to what asked for it. */
    causationEventId: p.uuid(),
  },
});
export class TransferRequest extends TransferRequestSchema.class {}
TransferRequestSchema.setClass(TransferRequest);

export const recordsTransferEntities = [TransferRequestSchema];
