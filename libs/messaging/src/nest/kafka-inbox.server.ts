import { BaseRpcContext } from '@nestjs/microservices';
import type { EventEnvelope } from '@sonet/contracts';
import { InboxProcessor, runBeforeCommit, type InboxContext, type InboxHandler } from '../inbox/inbox-processor';
import { inEventConsumerSpan } from '../trace';
import { BatchInboxProcessor, type InboxBatchContext, type InboxBatchItem } from '../inbox/batch-inbox-processor';
import { callNestHandler, InboxTransportBase, type InboxTransportOptions } from './inbox-transport.base';

/** The context a `@EventPattern` handler receives through `@Ctx()`. */
export class InboxRpcContext extends BaseRpcContext<[InboxContext]> {
  get inbox(): InboxContext {
    return this.args[0];
  }
}

/** Pattern for a handler that receives every event type on the subscribed topics. */
export const ANY_EVENT = '*';

export interface KafkaInboxServerOptions extends InboxTransportOptions {
  /**
   * Handle up to this many records of a partition in one database transaction (their inbox rows in one statement,
   * each event's handler in partition order, one commit) instead of one transaction per record. The handlers are
   * the same `@EventPattern` methods, sharing the transaction's EntityManager; a batch that keeps failing is handled
   * again one record at a time, so one bad record is dead-lettered alone. Takes the place of recordsConcurrently.
   */
  readonly recordsPerTransaction?: number;
  /**
   * With recordsPerTransaction: only these topics' records are grouped; those of the other topics go one record per
   * transaction, in partition order. For handlers with effects outside the database (a workflow signal) that must not
   * run again when a group is retried record by record. Unset: every topic is grouped.
   */
  readonly groupedTopics?: readonly string[];
}

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

  /** One transaction per record, each handed to its own handler. */
  private recordProcessor(): InboxProcessor {
    return new InboxProcessor(this.orm, () => this.broker.publisher(), {
      ...this.processorSettings(),
      resolve: (type) => this.resolve(type),
    });
  }

  listen(callback: (...optionalParams: unknown[]) => unknown): void {
    if (this.options.recordsPerTransaction && this.options.recordsPerTransaction > 1) {
      this.listenInBatches(this.options.recordsPerTransaction, callback);
      return;
    }
    const processor = this.recordProcessor();
    this.report(
      this.subscribe().run(async (record) => {
        await processor.handle(record);
      }),
      callback,
    );
  }

  /** One transaction per group of a partition's records, each handed to its own handler in order. */
  private listenInBatches(size: number, callback: (...optionalParams: unknown[]) => unknown): void {
    const handleItems = async (items: readonly InboxBatchItem[], batch: InboxBatchContext) => {
      // What the handlers leave for the end runs once for the whole group, before its commit.
      const works: (() => Promise<void>)[] = [];
      const beforeCommit = (work: () => Promise<void>) => works.push(work);
      for (const item of items) {
        const handler = this.resolve(item.envelope.type);
        if (!handler) continue;
        const ctx = {
          em: batch.em,
          topic: item.topic,
          partition: item.partition,
          offset: item.offset,
          headers: item.headers,
          beforeCommit,
        };
        // Each event in its own trace: what its handler records (a notification's trace context) continues that trace.
        await inEventConsumerSpan(
          item.envelope,
          {
            'messaging.system': 'kafka',
            'messaging.operation.type': 'process',
            'messaging.destination.name': item.topic,
            'messaging.consumer.group.name': this.options.groupId,
            'messaging.kafka.offset': item.offset,
          },
          () => handler(item.envelope, ctx),
        );
      }
      await runBeforeCommit(works);
    };
    const processor = new BatchInboxProcessor(this.orm, () => this.broker.publisher(), {
      ...this.processorSettings(),
      handles: (type) => this.resolve(type) !== undefined,
      handler: handleItems,
      // A failure is one record's (an event before its predecessor, a refused key): after one try of the group,
      // each record gets its own retries, and the others are not made to wait for them.
      batchAttempts: 1,
      spanPerEvent: true,
    });
    const grouped = this.options.groupedTopics ? new Set(this.options.groupedTopics) : undefined;
    const single = grouped ? this.recordProcessor() : undefined;
    this.report(
      this.subscribe().runBatches(
        async (batch) => {
          if (single && grouped && !grouped.has(batch.topic)) for (const record of batch.records) await single.handle(record);
          else await processor.handleBatch(batch);
        },
        { maxBatchSize: size },
      ),
      callback,
    );
  }
}
