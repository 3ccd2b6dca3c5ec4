import { Injectable } from '@nestjs/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import { RecordsTransferQueued, type EventEnvelope, type RecordsTransferRequestedData } from '@sonet/contracts';
import { deriveId, emitEvent } from '@sonet/messaging';
import { EVENT_SOURCE } from '../config';
import { TransferRequest } from '../domain/entities';
import { TransferStarter } from '../infrastructure/transfer-starter';

/**
 * Records a transfer request, reports it queued, and starts its `RecordsTransferWorkflow` once the receiving
 * organisation is known. A redelivered or repeated request changes nothing: the row is keyed by the transfer id and
 * the workflow by `records-transfer/<transferId>`. A transfer cancelled before its request arrived is not started.
 */
@Injectable()
export class RecordTransferRequestHandler {
  constructor(private readonly starter: TransferStarter) {}

  async execute(em: EntityManager, command: EventEnvelope<RecordsTransferRequestedData>): Promise<TransferRequest> {
    const c = command.data;
    const existing = await em.findOne(TransferRequest, { id: c.transferId });
    if (existing) {
      // A repeat may come after a crash between our commit and the start: make sure the workflow runs.
      if (existing.targetOrganisation && existing.status === 'ready') await this.starter.start(existing.id);
      return existing;
    }
    const receivedAt = new Date();
    const status = c.targetOrganisation ? 'ready' : 'awaiting-target';
    const transfer = em.create(TransferRequest, {
      id: c.transferId,
      referralId: c.referralId,
      sourceOrganisation: c.sourceOrganisation,
      targetOrganisation: c.targetOrganisation,
      documentKinds: c.documentKinds,
      lawfulBasis: c.lawfulBasis?.basis ?? null,
      consentRecordedAt: c.lawfulBasis ? new Date(c.lawfulBasis.recordedAt) : null,
      status,
      requestedAt: new Date(c.requestedAt),
      receivedAt,
      causationEventId: command.id,
      nhsNumber: c.patient?.nhsNumber ?? null,
      specialty: c.specialty ?? null,
      sourceTeamId: c.sourceTeamId ?? null,
      targetTeamId: c.targetTeamId ?? null,
      referringPractice: c.referringPractice ?? null,
      reason: null,
      discoveredAt: null,
      sendingAt: null,
      finishedAt: null,
      retries: 0,
      manifestVersion: 0,
    });
    await emitEvent(em, RecordsTransferQueued, {
      id: deriveId(c.transferId, 'queued'),
      source: EVENT_SOURCE,
      subject: c.referralId,
      time: receivedAt,
      data: { referralId: c.referralId, transferId: c.transferId, status, queuedAt: receivedAt.toISOString() },
    });
    await em.flush();
    // Started inside the inbox transaction: if the start fails, the command is retried; if the commit fails after
    // it, the retry finds the workflow running. Its first activity waits for this row to be committed.
    if (c.targetOrganisation) await this.starter.start(c.transferId);
    return transfer;
  }
}
