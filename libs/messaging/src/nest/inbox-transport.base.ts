import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import type { MikroORM } from '@mikro-orm/postgresql';
import { isObservable, lastValueFrom } from 'rxjs';
import type { EventRegistry } from '@sonet/contracts';
import type { MessageBroker, MessageSubscriber } from '../port';
import type { InboxLog } from '../inbox/dead-letter';
import { observeConsumerLag } from '../metrics';

/** Settings both inbox transports take (per record and per batch). */
export interface InboxTransportOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly registry: EventRegistry;
  readonly validateData?: boolean;
  readonly partitionsConcurrently?: number;
  /** Per-record inbox only: records of one partition handled at once, one key's records in order (see SubscriptionOptions). */
  readonly recordsConcurrently?: number;
  readonly maxAttempts?: number;
  readonly backoffMs?: number;
  readonly log?: InboxLog;
}

/** Runs a Nest event handler and waits for it, so its errors reach the inbox and roll the transaction back. */
export async function callNestHandler(handler: MessageHandler, payload: unknown, ctx: unknown): Promise<void> {
  const result: unknown = await handler(payload, ctx);
  if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
}

/**
 * What the inbox transports share: a NestJS transport strategy whose handlers' errors propagate, one Kafka
 * subscription for the consumer group, and the processor settings. Subclasses pick the processor (per record or
 * per batch) and how handlers are found.
 */
export abstract class InboxTransportBase<O extends InboxTransportOptions> extends Server implements CustomTransportStrategy {
  override readonly propagatesEventHandlerErrors = true;
  protected subscriber: MessageSubscriber | undefined;

  constructor(
    protected readonly orm: MikroORM,
    protected readonly broker: MessageBroker,
    protected readonly options: O,
  ) {
    super();
  }

  abstract override listen(callback: (...optionalParams: unknown[]) => unknown): void;

  /** The processor settings common to both kinds of inbox. */
  protected processorSettings() {
    const o = this.options;
    return {
      consumer: o.groupId,
      registry: o.registry,
      ...(o.validateData !== undefined ? { validateData: o.validateData } : {}),
      ...(o.maxAttempts !== undefined ? { maxAttempts: o.maxAttempts } : {}),
      ...(o.backoffMs !== undefined ? { backoffMs: o.backoffMs } : {}),
      ...(o.log ? { log: o.log } : {}),
    };
  }

  /** Subscribes the consumer group to the topics, from the beginning when it has no committed offset. */
  protected subscribe(): MessageSubscriber {
    observeConsumerLag(this.options.groupId, this.options.topics, () => this.broker.consumerLag(this.options.groupId, this.options.topics));
    this.subscriber = this.broker.subscriber({
      groupId: this.options.groupId,
      topics: this.options.topics,
      fromBeginning: true,
      ...(this.options.partitionsConcurrently ? { partitionsConcurrently: this.options.partitionsConcurrently } : {}),
      ...(this.options.recordsConcurrently ? { recordsConcurrently: this.options.recordsConcurrently } : {}),
    });
    return this.subscriber;
  }

  /** Tells Nest when consuming ends (or fails). */
  protected report(running: Promise<void>, callback: (...optionalParams: unknown[]) => unknown): void {
    running.then(
      () => callback(),
      (e: unknown) => callback(e),
    );
  }

  async close(): Promise<void> {
    await this.subscriber?.stop();
  }

  on(): never {
    throw new Error(`${this.constructor.name} does not support event listeners`);
  }

  unwrap<T>(): T {
    return this.subscriber as T;
  }
}
