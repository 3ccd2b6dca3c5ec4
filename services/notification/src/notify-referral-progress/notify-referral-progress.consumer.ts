import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { InboxRpcContext } from '@sonet/messaging';
import { REFERRAL_PROCESS_EVENT_TYPES, type ReferralProcessEvent } from '../domain/referral-process-event';
import { NotifyReferralProgressHandler } from './notify-referral-progress.handler';

/** Every referral.*.v1 event after the request (declined … closed); the routing decides who hears what. */
@Controller()
export class NotifyReferralProgressConsumer {
  constructor(private readonly handler: NotifyReferralProgressHandler) {}

  @EventPattern<string[]>([...REFERRAL_PROCESS_EVENT_TYPES])
  async onReferralProgress(@Payload() event: ReferralProcessEvent, @Ctx() ctx: InboxRpcContext): Promise<void> {
    await this.handler.execute(ctx.inbox.em, event);
  }
}
