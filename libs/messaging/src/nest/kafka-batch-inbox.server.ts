import { BaseRpcContext, Server, type CustomTransportStrategy } from '@nestjs/microservices';
import type { MikroORM } from '@mikro-orm/postgresql';
import { isObservable, lastValueFrom } from 'rxjs';
import type { EventRegistry } from '@sonet/contracts';
import type { MessageBroker, MessageSubscriber } from '../port';
import { BatchInboxProcessor, type InboxBatchContext, type InboxBatchItem } from '../inbox/batch-inbox-processor';

/** The context an `@EventPattern(INBOX_BATCH)` handler receives through `@Ctx()`. */
export class InboxBatchRpcContext extends BaseRpcContext<[InboxBatchContext]> {
  get batch(): InboxBatchContext {
    return this.args[0];
  }
}

/** Pattern of the one handler that receives batches: `@EventPattern(INBOX_BATCH) onBatch(@Payload() items: InboxBatchItem[], @Ctx() ctx)`. */
export const INBOX_BATCH = 'inbox:batch';

export interface KafkaBatchInboxServerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly registry: EventRegistry;
  readonly validateData?: boolean;
  /** Records handed to the handler at once, per partition (default 500). */
  readonly maxBatchSize?: number;
  readonly partitionsConcurrently?: number;
  readonly maxAttempts?: number;
  readonly backoffMs?: number;
  readonly log?: (level: 'warn' | 'error' | 'info', message: string, extra: Record<string, unknown>) => void;
}

/**
 * Like KafkaInboxServer, for consumers that write a whole batch in one transaction (the audit log): the records
 * of one partition go through the idempotent inbox together and reach the `INBOX_BATCH` handler in partition
 * order; the offset after the batch is committed after the transaction. Dead-letter rules are those of the inbox.
 */
export class KafkaBatchInboxServer extends Server implements CustomTransportStrategy {
  override readonly propagatesEventHandlerErrors = true;
  private subscriber: MessageSubscriber | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly orm: MikroORM,
    private readonly broker: MessageBroker,
    private readonly options: KafkaBatchInboxServerOptions,
  ) {
    super();
  }

  listen(callback: (...optionalParams: unknown[]) => unknown): void {
    const nestHandler = this.getHandlerByPattern(INBOX_BATCH);
    if (!nestHandler) {
      callback(new Error(`KafkaBatchInboxServer needs an @EventPattern('${INBOX_BATCH}') handler`));
      return;
    }
    const processor = new BatchInboxProcessor(this.orm, () => this.broker.publisher(), {
      consumer: this.options.groupId,
      registry: this.options.registry,
      handler: async (items: readonly InboxBatchItem[], ctx: InboxBatchContext) => {
        const result: unknown = await nestHandler(items, new InboxBatchRpcContext([ctx]));
        if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
      },
      ...(this.options.validateData !== undefined ? { validateData: this.options.validateData } : {}),
      ...(this.options.maxAttempts !== undefined ? { maxAttempts: this.options.maxAttempts } : {}),
      ...(this.options.backoffMs !== undefined ? { backoffMs: this.options.backoffMs } : {}),
      ...(this.options.log ? { log: this.options.log } : {}),
    });
    this.subscriber = this.broker.subscriber({
      groupId: this.options.groupId,
      topics: this.options.topics,
      fromBeginning: true,
      ...(this.options.partitionsConcurrently ? { partitionsConcurrently: this.options.partitionsConcurrently } : {}),
    });
    this.running = this.subscriber.runBatches(
      async (batch) => {
        await processor.handleBatch(batch);
      },
      { maxBatchSize: this.options.maxBatchSize ?? 500 },
    );
    this.running.then(
      () => callback(),
      (e: unknown) => callback(e),
    );
  }

  async close(): Promise<void> {
    await this.subscriber?.stop();
  }

  on(): never {
    throw new Error('KafkaBatchInboxServer does not support event listeners');
  }

  unwrap<T>(): T {
    return this.subscriber as T;
  }
}
