import { BaseRpcContext, Server, type CustomTransportStrategy } from '@nestjs/microservices';
import type { MikroORM } from '@mikro-orm/postgresql';
import { isObservable, lastValueFrom } from 'rxjs';
import type { EventEnvelope, EventRegistry } from '@sonet/contracts';
import type { MessageBroker, MessageSubscriber } from '../port';
import { InboxProcessor, type InboxContext, type InboxHandler } from '../inbox/inbox-processor';

/** The context a `@EventPattern` handler receives through `@Ctx()`. */
export class InboxRpcContext extends BaseRpcContext<[InboxContext]> {
  get inbox(): InboxContext {
    return this.args[0];
  }
}

/** Pattern for a handler that receives every event type on the subscribed topics. */
export const ANY_EVENT = '*';

export interface KafkaInboxServerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly registry: EventRegistry;
  readonly validateData?: boolean;
  readonly partitionsConcurrently?: number;
  readonly maxAttempts?: number;
  readonly backoffMs?: number;
  readonly log?: (level: 'warn' | 'error' | 'info', message: string, extra: Record<string, unknown>) => void;
}

/**
 * A NestJS transport strategy: `@EventPattern('<ce_type>')` handlers are fed from Kafka through the
 * idempotent inbox (one transaction for the inbox row and the handler's writes; offset committed after it;
 * dead-letters for bad input). Errors from handlers propagate here so the transaction rolls back.
 */
export class KafkaInboxServer extends Server implements CustomTransportStrategy {
  override readonly propagatesEventHandlerErrors = true;
  private subscriber: MessageSubscriber | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly orm: MikroORM,
    private readonly broker: MessageBroker,
    private readonly options: KafkaInboxServerOptions,
  ) {
    super();
  }

  private resolve(type: string): InboxHandler | undefined {
    const nestHandler = this.getHandlerByPattern(type) ?? this.getHandlerByPattern(ANY_EVENT);
    if (!nestHandler) return undefined;
    return async (envelope: EventEnvelope, ctx: InboxContext) => {
      const result: unknown = await nestHandler(envelope, new InboxRpcContext([ctx]));
      if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
    };
  }

  listen(callback: (...optionalParams: unknown[]) => unknown): void {
    const processor = new InboxProcessor(this.orm, () => this.broker.publisher(), {
      consumer: this.options.groupId,
      registry: this.options.registry,
      resolve: (type) => this.resolve(type),
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
    this.running = this.subscriber.run(async (record) => {
      await processor.handle(record);
    });
    this.running.then(
      () => callback(),
      (e: unknown) => callback(e),
    );
  }

  async close(): Promise<void> {
    await this.subscriber?.stop();
  }

  on(): never {
    throw new Error('KafkaInboxServer does not support event listeners');
  }

  unwrap<T>(): T {
    return this.subscriber as T;
  }
}
