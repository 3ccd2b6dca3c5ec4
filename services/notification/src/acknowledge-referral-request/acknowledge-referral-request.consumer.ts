import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { ReferralRequested, type EventMap } from '@sonet/contracts';
import type { InboxRpcContext } from '@sonet/messaging';
import { AcknowledgeReferralRequestHandler } from './acknowledge-referral-request.handler';

@Controller()
export class AcknowledgeReferralRequestConsumer {
  constructor(private readonly handler: AcknowledgeReferralRequestHandler) {}

  @EventPattern<string>(ReferralRequested.type)
  async onReferralRequested(@Payload() event: EventMap['referral.requested.v1'], @Ctx() ctx: InboxRpcContext): Promise<void> {
    await this.handler.execute(ctx.inbox.em, event);
  }
}
