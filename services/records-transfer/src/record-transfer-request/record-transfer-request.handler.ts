import { Injectable } from '@nestjs/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import { RecordsTransferQueued, type EventEnvelope, type RecordsTransferRequestedData } from '@sonet/contracts';
import { deriveId, emitEvent } from '@sonet/messaging';
import { EVENT_SOURCE } from '../config';
import { TransferRequest } from '../domain/entities';

/**
 * Records a transfer request and reports it queued. The transfer itself waits until the GP has chosen the
 * new team (targetOrganisation set); the connectors that move documents come with the records-transfer issue.
 */
@Injectable()
export class RecordTransferRequestHandler {
  async execute(em: EntityManager, command: EventEnvelope<RecordsTransferRequestedData>): Promise<TransferRequest> {
    const c = command.data;
    const existing = await em.findOne(TransferRequest, { id: c.transferId });
    if (existing) return existing;
    const receivedAt = new Date();
    const status = c.targetOrganisation ? 'ready' : 'awaiting-target';
    const transfer = em.create(TransferRequest, {
      id: c.transferId,
      referralId: c.referralId,
      sourceOrganisation: c.sourceOrganisation,
      targetOrganisation: c.targetOrganisation,
      documentKinds: c.documentKinds,
      lawfulBasis: c.lawfulBasis.basis,
      consentRecordedAt: new Date(c.lawfulBasis.recordedAt),
      status,
      requestedAt: new Date(c.requestedAt),
      receivedAt,
      causationEventId: command.id,
    });
    await emitEvent(em, RecordsTransferQueued, {
      id: deriveId(c.transferId, 'queued'),
      source: EVENT_SOURCE,
      subject: c.referralId,
      time: receivedAt,
      data: { referralId: c.referralId, transferId: c.transferId, status, queuedAt: receivedAt.toISOString() },
    });
    return transfer;
  }
}
