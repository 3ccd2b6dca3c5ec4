import { deadLetter } from './dead-letter';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { EnvelopeError, fromWireMessage, headerTextMap, type EventEnvelope, type EventRegistry } from '@sonet/contracts';
import type { MessagePublisher, ReceivedRecord, RecordBatch } from '../port';
import { contextFromTraceHeaders, inConsumerSpan } from '../trace';
import { PermanentError } from './inbox-processor';

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

export interface BatchInboxProcessorOptions {
  /** The consumer group; also the inbox's dedupe scope. */
  readonly consumer: string;
  readonly registry: EventRegistry;
  readonly handler: InboxBatchHandler;
  /** Validate data against the registry's schema (off for consumers that keep events verbatim, e.g. audit). */
  readonly validateData?: boolean;
  readonly maxAttempts?: number;
  readonly backoffMs?: number;
  readonly log?: (level: 'warn' | 'error' | 'info', message: string, extra: Record<string, unknown>) => void;
}

export interface BatchOutcome {
  processed: number;
  duplicates: number;
  deadLettered: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The idempotent inbox for a batch of one partition's records: parse every CloudEvent, record all event ids in
 * the inbox with one statement and hand the new ones to the handler, in one transaction. Same guarantees as
 * InboxProcessor, record for record: a redelivered event id changes nothing; a record that is not a valid
 * CloudEvent is dead-lettered and the rest go on. When a batch keeps failing, its records are retried one at a
 * time, so one poison record is dead-lettered instead of stopping the partition. The caller commits the offset
 * after the batch's last record only after this resolves.
 */
export class BatchInboxProcessor {
  private readonly maxAttempts: number;
  private readonly backoffMs: number;

  constructor(
    private readonly orm: MikroORM,
    private readonly dlqPublisher: () => Promise<MessagePublisher>,
    private readonly options: BatchInboxProcessorOptions,
  ) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.backoffMs = options.backoffMs ?? 200;
  }

  async handleBatch(batch: RecordBatch): Promise<BatchOutcome> {
    const outcome: BatchOutcome = { processed: 0, duplicates: 0, deadLettered: 0 };
    const items: InboxBatchItem[] = [];
    for (const record of batch.records) {
      let envelope: EventEnvelope;
      try {
        envelope = fromWireMessage(record);
      } catch (e) {
        if (!(e instanceof EnvelopeError)) throw e;
        await this.deadLetter(record, 'invalid-envelope', e.message, 0);
        outcome.deadLettered++;
        continue;
      }
      if (this.options.validateData !== false) {
        const parsed = this.options.registry.parse(envelope.type, envelope.data);
        if (!parsed.ok) {
          await this.deadLetter(record, 'invalid-data', parsed.reason, 0, envelope);
          outcome.deadLettered++;
          continue;
        }
        envelope = { ...envelope, data: parsed.data };
      }
      items.push({
        envelope,
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        headers: headerTextMap(record.headers),
        payload: record.value === null ? Buffer.alloc(0) : Buffer.from(record.value),
      });
    }
    if (items.length === 0) return outcome;

    const first = items[0]!;
    const attributes = {
      'messaging.system': 'kafka',
      'messaging.operation.type': 'process',
      'messaging.destination.name': batch.topic,
      'messaging.destination.partition.id': String(batch.partition),
      'messaging.consumer.group.name': this.options.consumer,
      'messaging.batch.message_count': items.length,
    };
    // One span per batch, continuing the trace of its first event (each entry keeps its own traceparent).
    const counted = await inConsumerSpan(`${batch.topic} process batch`, contextFromTraceHeaders(first.envelope), attributes, () =>
      this.runWithRetries(batch, items),
    );
    outcome.processed += counted.processed;
    outcome.duplicates += counted.duplicates;
    outcome.deadLettered += counted.deadLettered;
    return outcome;
  }

  private async runWithRetries(batch: RecordBatch, items: readonly InboxBatchItem[]): Promise<BatchOutcome> {
    let lastError: Error = new Error('not attempted');
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      try {
        const processed = await this.runOnce(batch, items);
        return { processed, duplicates: items.length - processed, deadLettered: 0 };
      } catch (e) {
        lastError = e as Error;
        if (e instanceof PermanentError || lastError.name === 'ZodError') break;
        this.options.log?.('warn', 'batch handler failed; will retry', {
          consumer: this.options.consumer,
          topic: batch.topic,
          partition: batch.partition,
          size: items.length,
          attempt,
          error: lastError.message,
        });
        if (attempt < this.maxAttempts) await sleep(this.backoffMs * 2 ** (attempt - 1));
      }
    }
    if (items.length === 1) {
      const only = items[0]!;
      const kind = lastError instanceof PermanentError ? 'rejected' : 'handler-failed';
      await this.deadLetter(this.recordOf(only), kind, lastError.message, this.maxAttempts, only.envelope);
      return { processed: 0, duplicates: 0, deadLettered: 1 };
    }
    // Find the record that fails: one at a time, in order, each with its own retries.
    this.options.log?.('warn', 'batch keeps failing; handling its records one at a time', {
      consumer: this.options.consumer,
      topic: batch.topic,
      partition: batch.partition,
      size: items.length,
      error: lastError.message,
    });
    const total: BatchOutcome = { processed: 0, duplicates: 0, deadLettered: 0 };
    for (const item of items) {
      const one = await this.runWithRetries({ ...batch, records: [] }, [item]);
      total.processed += one.processed;
      total.duplicates += one.duplicates;
      total.deadLettered += one.deadLettered;
    }
    return total;
  }

  /** One transaction: the inbox rows of every item, then the handler with the items that were new. Returns how many were new. */
  private async runOnce(batch: RecordBatch, items: readonly InboxBatchItem[]): Promise<number> {
    const em = this.orm.em.fork();
    return em.transactional(async (tem) => {
      const values = items.map(() => '(?, ?, ?, ?, ?, ?)').join(', ');
      const params = items.flatMap((i) => [this.options.consumer, i.envelope.id, i.envelope.type, i.topic, i.partition, i.offset]);
      const inserted = await tem.execute<{ event_id: string }[]>(
        `insert into inbox (consumer, event_id, event_type, topic, partition, "offset") values ${values} on conflict do nothing returning event_id`,
        params,
      );
      const fresh = new Set(inserted.map((r) => r.event_id));
      // The first delivery of each new id, in partition order (a batch may hold the same event twice).
      const todo = items.filter((i) => fresh.delete(i.envelope.id));
      if (todo.length > 0) await this.options.handler(todo, { em: tem, topic: batch.topic, partition: batch.partition });
      return todo.length;
    });
  }

  private recordOf(item: InboxBatchItem): ReceivedRecord {
    return { topic: item.topic, partition: item.partition, offset: item.offset, key: item.envelope.subject, value: item.payload, headers: item.headers };
  }

  private deadLetter(record: ReceivedRecord, kind: string, reason: string, attempts: number, envelope?: EventEnvelope): Promise<void> {
    return deadLetter(this.dlqPublisher, this.options.consumer, this.options.log, record, { kind, reason, attempts, envelope });
  }
}
