import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { EventEnvelope } from '@sonet/contracts';
import type { MessagePublisher, RecordBatch } from '../port';
import { contextFromTraceHeaders, inBatchConsumerSpans, inConsumerSpan } from '../trace';
import { InboxPipeline, type AcceptedRecord, type InboxPipelineOptions } from './inbox-pipeline';

/** One new event of a batch, with where it was read and what it travelled with. */
export interface InboxBatchItem {
  readonly envelope: EventEnvelope;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** Every Kafka header as received. */
  readonly headers: Readonly<Record<string, string>>;
  /** The message body exactly as received (for digests of what was sent). */
  readonly payload: Buffer;
}

/** What a batch handler sees besides the events: the transaction its writes must use. */
export interface InboxBatchContext {
  readonly em: EntityManager;
  readonly topic: string;
  readonly partition: number;
}

/**
 * Handles the events of a batch that this consumer group has not seen before, in partition order, inside the
 * transaction that records them in the inbox. Throwing rolls the whole batch back.
 */
export type InboxBatchHandler = (items: readonly InboxBatchItem[], ctx: InboxBatchContext) => Promise<void>;

export interface BatchInboxProcessorOptions extends InboxPipelineOptions {
  readonly handler: InboxBatchHandler;
  /** Whether this consumer handles an event type; others are skipped without an inbox row (default: every type). */
  readonly handles?: (type: string) => boolean;
  /**
   * Tries of a whole batch before its records are handled one at a time, each with the full maxAttempts (default:
   * maxAttempts). 1 suits handlers whose failures belong to one record (a missing earlier event): the batch's other
   * records are not held up by that record's retries twice over.
   */
  readonly batchAttempts?: number;
  /**
   * The handler runs each event in a span of the event's own trace (inEventConsumerSpan): then only the batch's span
   * is made here, not one per other event pointing at it.
   */
  readonly spanPerEvent?: boolean;
}

export interface BatchOutcome {
  processed: number;
  duplicates: number;
  deadLettered: number;
}

const itemOf = ({ record, envelope, headers }: AcceptedRecord): InboxBatchItem => ({
  envelope,
  topic: record.topic,
  partition: record.partition,
  offset: record.offset,
  headers,
  payload: record.value === null ? Buffer.alloc(0) : Buffer.from(record.value),
});

const sum = (a: BatchOutcome, b: BatchOutcome): BatchOutcome => ({
  processed: a.processed + b.processed,
  duplicates: a.duplicates + b.duplicates,
  deadLettered: a.deadLettered + b.deadLettered,
});

/**
 * The batch mode of the inbox pipeline, for one partition's records: every record is read and validated as in
 * InboxProcessor (a bad one is dead-lettered and the rest go on), then all new event ids are recorded in the inbox
 * with one statement and handed to the handler, in one transaction. When a batch keeps failing, its records are
 * retried one at a time, so one poison record is dead-lettered instead of stopping the partition. The caller
 * commits the offset after the batch's last record only after this resolves.
 */
export class BatchInboxProcessor {
  private readonly pipeline: InboxPipeline;

  constructor(
    orm: MikroORM,
    dlqPublisher: () => Promise<MessagePublisher>,
    private readonly options: BatchInboxProcessorOptions,
  ) {
    this.pipeline = new InboxPipeline(orm, dlqPublisher, options);
  }

  async handleBatch(batch: RecordBatch): Promise<BatchOutcome> {
    let outcome: BatchOutcome = { processed: 0, duplicates: 0, deadLettered: 0 };
    const accepted: AcceptedRecord[] = [];
    for (const record of batch.records) {
      const one = await this.pipeline.accept(record, this.options.handles);
      if (one === 'dead-lettered') outcome.deadLettered++;
      else if (one !== 'skipped') accepted.push(one);
    }
    const first = accepted[0];
    if (!first) return outcome;

    const attributes = {
      'messaging.system': 'kafka',
      'messaging.operation.type': 'process',
      'messaging.destination.name': batch.topic,
      'messaging.destination.partition.id': String(batch.partition),
      'messaging.consumer.group.name': this.options.consumer,
      'messaging.batch.message_count': accepted.length,
    };
    // One span per batch, continuing the trace of its first event; the other events' traces get a span pointing at it,
    // unless the handler gives each event a span of its own (spanPerEvent).
    const name = `${batch.topic} process batch`;
    const handle = () => this.handleWithRetries(batch, accepted);
    const handled = this.options.spanPerEvent
      ? await inConsumerSpan(name, contextFromTraceHeaders(first.envelope), attributes, handle)
      : await inBatchConsumerSpans(
          name,
          accepted.map((a) => a.envelope),
          attributes,
          handle,
        );
    outcome = sum(outcome, handled);
    return outcome;
  }

  private async handleWithRetries(batch: RecordBatch, accepted: readonly AcceptedRecord[]): Promise<BatchOutcome> {
    const attempts = accepted.length > 1 ? this.options.batchAttempts : undefined;
    const result = await this.pipeline.withRetries(
      () => this.runOnce(batch, accepted),
      'batch handler failed; will retry',
      { topic: batch.topic, partition: batch.partition, size: accepted.length },
      attempts,
    );
    if (result.ok) return { processed: result.value, duplicates: accepted.length - result.value, deadLettered: 0 };
    const only = accepted.length === 1 ? accepted[0] : undefined;
    if (only) {
      await this.pipeline.deadLetter(only.record, { ...result.failure, envelope: only.envelope });
      return { processed: 0, duplicates: 0, deadLettered: 1 };
    }
    // Find the record that fails: one at a time, in order, each with its own retries.
    this.options.log?.('warn', 'batch keeps failing; handling its records one at a time', {
      consumer: this.options.consumer,
      topic: batch.topic,
      partition: batch.partition,
      size: accepted.length,
      error: result.failure.reason,
    });
    let total: BatchOutcome = { processed: 0, duplicates: 0, deadLettered: 0 };
    for (const one of accepted) total = sum(total, await this.handleWithRetries(batch, [one]));
    return total;
  }

  /** One transaction for the inbox rows and the handler; returns how many events were new. */
  private runOnce(batch: RecordBatch, accepted: readonly AcceptedRecord[]): Promise<number> {
    return this.pipeline.inTransaction(accepted, async (fresh, em) => {
      if (fresh.length > 0) await this.options.handler(fresh.map(itemOf), { em, topic: batch.topic, partition: batch.partition });
      return fresh.length;
    });
  }
}
