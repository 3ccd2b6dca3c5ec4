import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { RecordsTransferRequested, type EventMap } from '@sonet/contracts';
import type { InboxRpcContext } from '@sonet/messaging';
import { RecordTransferRequestHandler } from './record-transfer-request.handler';

@Controller()
export class RecordTransferRequestConsumer {
  constructor(private readonly handler: RecordTransferRequestHandler) {}

  @EventPattern<string>(RecordsTransferRequested.type)
  async onTransferRequested(@Payload() event: EventMap['records.transfer-requested.v1'], @Ctx() ctx: InboxRpcContext): Promise<void> {
    await this.handler.execute(ctx.inbox.em, event);
  }
}
