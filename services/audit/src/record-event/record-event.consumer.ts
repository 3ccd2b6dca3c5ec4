import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { INBOX_BATCH, type InboxBatchItem, type InboxBatchRpcContext } from '@sonet/messaging';
import { RecordEventHandler } from './record-event.handler';

@Controller()
export class RecordEventConsumer {
  private readonly logger = new Logger(RecordEventConsumer.name);

  constructor(private readonly handler: RecordEventHandler) {}

  /** Every new event of a partition's batch, in order, in the inbox transaction; data arrives as sent (no validation). */
  @EventPattern<string>(INBOX_BATCH)
  async onBatch(@Payload() items: InboxBatchItem[], @Ctx() ctx: InboxBatchRpcContext): Promise<void> {
    const { em, topic, partition } = ctx.batch;
    const result = await this.handler.execute(em, items);
    if (result.duplicates.length > 0) {
      // The inbox lets them through only when another consumer group (e.g. a replay) already recorded them.
      this.logger.log({ topic, partition, duplicates: result.duplicates.length }, 'events already in the audit log');
    }
  }
}
