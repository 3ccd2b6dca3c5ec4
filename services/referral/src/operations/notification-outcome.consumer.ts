import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  NotificationFailed,
  NotificationSent,
  type EventEnvelope,
  type NotificationFailedData,
  type NotificationSentData,
} from '@sonet/contracts';
import type { InboxRpcContext } from '@sonet/messaging';
import { nativeQuery } from '@sonet/service-kit';

/**
 * Notifications the notification service gave up on, kept for the stuck list (GET /v1/ops/stuck) in the inbox's
 * transaction: a redelivered event changes nothing. A later send of the same notification (an operator's re-send
 * after fixing the contact details) takes it off the list.
 */
@Controller()
export class NotificationOutcomeConsumer {
  @EventPattern<string>(NotificationFailed.type)
  async onFailed(@Payload() e: EventEnvelope<NotificationFailedData>, @Ctx() ctx: InboxRpcContext): Promise<void> {
    const d = e.data;
    await nativeQuery(
      ctx.inbox.em,
      `insert into undeliverable_notification (notification_id, referral_id, recipient_role, channel, template, reason, attempts, failed_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (notification_id) do nothing`,
      [d.notificationId, d.referralId, d.recipientRole, d.channel, d.template, d.reason, d.attempts, new Date(d.failedAt)],
    );
  }

  @EventPattern<string>(NotificationSent.type)
  async onSent(@Payload() e: EventEnvelope<NotificationSentData>, @Ctx() ctx: InboxRpcContext): Promise<void> {
    await nativeQuery(ctx.inbox.em, `delete from undeliverable_notification where notification_id = $1 and failed_at <= $2`, [
      e.data.notificationId,
      new Date(e.data.sentAt),
    ]);
  }
}
