import { Controller, Inject, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Client, WorkflowNotFoundError } from '@temporalio/client';
import { RecordsTransferCompleted, RecordsTransferFailed, type EventEnvelope } from '@sonet/contracts';
import type { InboxRpcContext } from '@sonet/messaging';
import { TEMPORAL_CLIENT } from '../infrastructure/tokens';
import { recordsTransferOutcomeSignal, workflowIdFor } from '../workflows/definitions';

/**
 * Completion events from records-transfer become signals to the referral's workflow (the workflow records them
 * in the timeline, idempotently). A referral whose process has ended no longer needs to hear about it.
 */
@Controller()
export class RecordsOutcomeConsumer {
  private readonly logger = new Logger(RecordsOutcomeConsumer.name);

  constructor(@Inject(TEMPORAL_CLIENT) private readonly temporal: Client) {}

  @EventPattern<string>(RecordsTransferCompleted.type)
  async onCompleted(@Payload() e: EventEnvelope<{ referralId: string; transferId: string }>, @Ctx() _ctx: InboxRpcContext): Promise<void> {
    await this.signal(e.data.referralId, { transferId: e.data.transferId, outcome: 'completed' });
  }

  @EventPattern<string>(RecordsTransferFailed.type)
  async onFailed(
    @Payload() e: EventEnvelope<{ referralId: string; transferId: string; reason: string }>,
    @Ctx() _ctx: InboxRpcContext,
  ): Promise<void> {
    await this.signal(e.data.referralId, { transferId: e.data.transferId, outcome: 'failed', reason: e.data.reason });
  }

  private async signal(
    referralId: string,
    outcome: { transferId: string; outcome: 'completed' | 'failed'; reason?: string },
  ): Promise<void> {
    try {
      await this.temporal.workflow.getHandle(workflowIdFor(referralId)).signal(recordsTransferOutcomeSignal, outcome);
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) {
        this.logger.log({ referralId, outcome: outcome.outcome }, 'records transfer outcome for a referral whose process has ended');
        return;
      }
      throw e;
    }
  }
}
