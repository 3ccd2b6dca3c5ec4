import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { RecordsTransferCancelRequested, type EventEnvelope } from '@sonet/contracts';
import type { InboxRpcContext } from '@sonet/messaging';
import { CancelTransferHandler, type CancelTransferCommand } from './cancel-transfer.handler';

@Controller()
export class CancelTransferConsumer {
  constructor(private readonly handler: CancelTransferHandler) {}

  @EventPattern<string>(RecordsTransferCancelRequested.type)
  async onCancelRequested(@Payload() event: EventEnvelope<CancelTransferCommand>, @Ctx() ctx: InboxRpcContext): Promise<void> {
    await this.handler.execute(ctx.inbox.em, event);
  }
}
