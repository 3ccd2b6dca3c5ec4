import { BaseRpcContext } from '@nestjs/microservices';
import { BatchInboxProcessor, type InboxBatchContext, type InboxBatchItem } from '../inbox/batch-inbox-processor';
import { callNestHandler, InboxTransportBase, type InboxTransportOptions } from './inbox-transport.base';

/** The context an `@EventPattern(INBOX_BATCH)` handler receives through `@Ctx()`. */
export class InboxBatchRpcContext extends BaseRpcContext<[InboxBatchContext]> {
  get batch(): InboxBatchContext {
    return this.args[0];
  }
}

/** Pattern of the one handler that receives batches: `@EventPattern(INBOX_BATCH) onBatch(@Payload() items: InboxBatchItem[], @Ctx() ctx)`. */
export const INBOX_BATCH = 'inbox:batch';

export interface KafkaBatchInboxServerOptions extends InboxTransportOptions {
  /** Records handed to the handler at once, per partition (default 500). */
  readonly maxBatchSize?: number;
}

/**
 * Like KafkaInboxServer, for consumers that write a whole batch in one transaction (the audit log): the records
 * of one partition go through the idempotent inbox together and reach the `INBOX_BATCH` handler in partition
 * order; the offset after the batch is committed after the transaction. Dead-letter rules are those of the inbox.
 */
export class KafkaBatchInboxServer extends InboxTransportBase<KafkaBatchInboxServerOptions> {
  listen(callback: (...optionalParams: unknown[]) => unknown): void {
    const nestHandler = this.getHandlerByPattern(INBOX_BATCH);
    if (!nestHandler) {
      callback(new Error(`KafkaBatchInboxServer needs an @EventPattern('${INBOX_BATCH}') handler`));
      return;
    }
    const processor = new BatchInboxProcessor(this.orm, () => this.broker.publisher(), {
      ...this.processorSettings(),
      handler: (items: readonly InboxBatchItem[], ctx: InboxBatchContext) =>
        callNestHandler(nestHandler, items, new InboxBatchRpcContext([ctx])),
    });
    this.report(
      this.subscribe().runBatches(
        async (batch) => {
          await processor.handleBatch(batch);
        },
        { maxBatchSize: this.options.maxBatchSize ?? 500 },
      ),
      callback,
    );
  }
}
