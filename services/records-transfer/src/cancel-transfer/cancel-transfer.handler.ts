import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { EventEnvelope } from '@sonet/contracts';
import { TransferRequest } from '../domain/entities';

export interface CancelTransferCommand {
  readonly referralId: string;
  readonly transferId: string;
  readonly reason: string;
}

/**
 * Stops a transfer the referral no longer needs (withdrawn, declined, or referred to another team): nothing more
 * is sent for it. A transfer that already finished stays as it was; a cancel for a transfer not seen yet is kept
 * as a cancelled placeholder so a late request cannot start it.
 */
@Injectable()
export class CancelTransferHandler {
  private readonly logger = new Logger(CancelTransferHandler.name);

  async execute(em: EntityManager, command: EventEnvelope<CancelTransferCommand>): Promise<'cancelled' | 'already-finished' | 'unknown'> {
    const t = await em.findOne(TransferRequest, { id: command.data.transferId });
    if (!t) {
      this.logger.warn({ transferId: command.data.transferId, referralId: command.data.referralId }, 'cancel for a transfer not recorded (yet)');
      return 'unknown';
    }
    if (t.status === 'completed' || t.status === 'failed' || t.status === 'cancelled') return 'already-finished';
    t.status = 'cancelled';
    return 'cancelled';
  }
}
