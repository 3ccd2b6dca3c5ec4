import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { RecordsGapsDetected } from '@sonet/contracts';
import type { InboxRpcContext } from '@sonet/messaging';
import { NotifyRecordsGapsHandler, type RecordsGapsEvent } from './notify-records-gaps.handler';

/** records.gaps-detected.v1 (on records.events.v1): the GP and the receiving team are told what could not be sent. */
@Controller()
export class NotifyRecordsGapsConsumer {
  constructor(private readonly handler: NotifyRecordsGapsHandler) {}

  @EventPattern<string>(RecordsGapsDetected.type)
  async onGapsDetected(@Payload() event: RecordsGapsEvent, @Ctx() ctx: InboxRpcContext): Promise<void> {
    await this.handler.execute(ctx.inbox.em, event);
  }
}
