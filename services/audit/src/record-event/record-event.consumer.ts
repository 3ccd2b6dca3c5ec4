import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { EventEnvelope } from '@sonet/contracts';
import { ANY_EVENT, type InboxRpcContext } from '@sonet/messaging';
import { RecordEventHandler } from './record-event.handler';

@Controller()
export class RecordEventConsumer {
  private readonly logger = new Logger(RecordEventConsumer.name);

  constructor(private readonly handler: RecordEventHandler) {}

  /** Every event on every audited topic; the server runs with validateData off, so data arrives as sent. */
  @EventPattern<string>(ANY_EVENT)
  async onEvent(@Payload() event: EventEnvelope, @Ctx() ctx: InboxRpcContext): Promise<void> {
    const { em, topic, partition, offset, headers } = ctx.inbox;
    const result = await this.handler.execute(em, event, { topic, partition, offset, headers });
    if (result.outcome === 'duplicate') {
      // The inbox lets it through only when another consumer group (e.g. a replay) already recorded it.
      this.logger.log({ eventId: event.id, eventType: event.type, topic }, 'event already in the audit log');
    }
  }
}
