import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import { RecordsTransferCancelled, type EventEnvelope } from '@sonet/contracts';
import { deriveId, emitEvent } from '@sonet/messaging';
import { EVENT_SOURCE } from '../config';
import { FINISHED_STATUSES, TransferItem, TransferRequest } from '../domain/entities';
import { TransferStarter } from '../infrastructure/transfer-starter';

export interface CancelTransferCommand {
  readonly referralId: string;
  readonly transferId: string;
  readonly reason: string;
}

/**
 * Stops a transfer the referral no longer needs (withdrawn, declined, or referred to another team): nothing more
 * is sent for it. A running transfer's workflow is cancelled and records the cancellation itself (items already
 * confirmed stay recorded as sent); one that never started is cancelled here. A finished transfer stays as it was.
 */
@Injectable()
export class CancelTransferHandler {
  private readonly logger = new Logger(CancelTransferHandler.name);

  constructor(private readonly starter: TransferStarter) {}

  async execute(em: EntityManager, command: EventEnvelope<CancelTransferCommand>): Promise<'cancelled' | 'already-finished' | 'unknown'> {
    const t = await em.findOne(TransferRequest, { id: command.data.transferId });
    if (!t) {
      this.logger.warn(
        { transferId: command.data.transferId, referralId: command.data.referralId },
        'cancel for a transfer not recorded (yet)',
      );
      return 'unknown';
    }
    if (FINISHED_STATUSES.includes(t.status)) return 'already-finished';
    t.reason = command.data.reason.slice(0, 500);
    await em.flush();
    if (await this.starter.cancel(t.id)) return 'cancelled';
    // No workflow runs for it (awaiting the target, or not started yet): cancelled here, with the same event.
    const at = new Date();
    const items = await em.count(TransferItem, { transferId: t.id, status: 'acknowledged' });
    t.status = 'cancelled';
    t.finishedAt = at;
    await emitEvent(em, RecordsTransferCancelled, {
      id: deriveId(t.id, 'cancelled'),
      source: EVENT_SOURCE,
      subject: t.referralId,
      time: at,
      data: {
        referralId: t.referralId,
        transferId: t.id,
        reason: t.reason,
        itemsSent: items,
        itemsNotSent: 0,
        cancelledAt: at.toISOString(),
      },
    });
    return 'cancelled';
  }
}
