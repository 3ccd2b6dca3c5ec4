import { BaseRpcContext } from '@nestjs/microservices';
import type { EventEnvelope } from '@sonet/contracts';
import { InboxProcessor, type InboxContext, type InboxHandler } from '../inbox/inbox-processor';
import { callNestHandler, InboxTransportBase, type InboxTransportOptions } from './inbox-transport.base';

/** The context a `@EventPattern` handler receives through `@Ctx()`. */
export class InboxRpcContext extends BaseRpcContext<[InboxContext]> {
  get inbox(): InboxContext {
    return this.args[0];
  }
}

/** Pattern for a handler that receives every event type on the subscribed topics. */
export const ANY_EVENT = '*';

export type KafkaInboxServerOptions = InboxTransportOptions;

/**
 * A NestJS transport strategy: `@EventPattern('<ce_type>')` handlers are fed from Kafka through the
 * idempotent inbox (one transaction for the inbox row and the handler's writes; offset committed after it;
 * dead-letters for bad input). Errors from handlers propagate here so the transaction rolls back.
 */
export class KafkaInboxServer extends InboxTransportBase<KafkaInboxServerOptions> {
  private resolve(type: string): InboxHandler | undefined {
    const nestHandler = this.getHandlerByPattern(type) ?? this.getHandlerByPattern(ANY_EVENT);
    if (!nestHandler) return undefined;
    return (envelope: EventEnvelope, ctx: InboxContext) => callNestHandler(nestHandler, envelope, new InboxRpcContext([ctx]));
  }

  listen(callback: (...optionalParams: unknown[]) => unknown): void {
    const processor = new InboxProcessor(this.orm, () => this.broker.publisher(), {
      ...this.processorSettings(),
      resolve: (type) => this.resolve(type),
    });
    this.report(
      this.subscribe().run(async (record) => {
        await processor.handle(record);
      }),
      callback,
    );
  }
}
