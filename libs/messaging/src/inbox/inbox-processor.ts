import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { EventEnvelope } from '@sonet/contracts';
import type { MessagePublisher, ReceivedRecord } from '../port';
import { contextFromTraceHeaders, inConsumerSpan } from '../trace';
import { InboxPipeline, type AcceptedRecord, type InboxPipelineOptions } from './inbox-pipeline';

export { PermanentError } from './inbox-pipeline';

/** What a handler sees besides the event: the transaction its writes must use, and where the event came from. */
export interface InboxContext {
  /** Transactional EntityManager: the inbox row and the handler's writes commit together. */
  readonly em: EntityManager;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** Every Kafka header as received (ce_*, traceparent and any others), for consumers that keep them verbatim. */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * Work for the end of the transaction, after every handler sharing it ran and before it commits: a handler leaves
   * its writes here to have them written together with the other events' of a group (one statement, not one each).
   * Its failure fails the transaction, as the handler's own would. Absent where a transport does not offer it.
   */
  readonly beforeCommit?: (work: () => Promise<void>) => void;
}

/** Runs the work left for the end of a transaction, in the order it was left (work may leave more). */
export async function runBeforeCommit(works: (() => Promise<void>)[]): Promise<void> {
  // By index: work may leave more while it runs.
  for (let i = 0; i < works.length; i++) await (works[i] as () => Promise<void>)();
}

export type InboxHandler = (envelope: EventEnvelope, ctx: InboxContext) => Promise<void>;

export type Outcome = 'processed' | 'duplicate' | 'skipped' | 'dead-lettered';

export interface InboxProcessorOptions extends InboxPipelineOptions {
  /** The handler for an event type, or undefined to skip that type. */
  readonly resolve: (type: string) => InboxHandler | undefined;
}

/**
 * Idempotent consumer step for one Kafka record: the per-record mode of the inbox pipeline. The record is read
 * and validated, and its handler runs in one database transaction together with an inbox row keyed by (consumer,
 * event id). A second delivery of the same event id finds the row and changes nothing. Records that cannot be
 * read or validated, or whose handler keeps failing, are dead-lettered with the reason in headers, and the
 * consumer goes on. The caller commits the Kafka offset only after this resolves.
 */
export class InboxProcessor {
  private readonly pipeline: InboxPipeline;

  constructor(
    orm: MikroORM,
    dlqPublisher: () => Promise<MessagePublisher>,
    private readonly options: InboxProcessorOptions,
  ) {
    this.pipeline = new InboxPipeline(orm, dlqPublisher, options);
  }

  async handle(record: ReceivedRecord): Promise<Outcome> {
    const accepted = await this.pipeline.accept(record, (type) => this.options.resolve(type) !== undefined);
    if (typeof accepted === 'string') return accepted;
    const { envelope } = accepted;
    const handler = this.options.resolve(envelope.type);
    if (!handler) return 'skipped';
    return inConsumerSpan(
      `${envelope.type} process`,
      contextFromTraceHeaders(envelope),
      {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.destination.name': record.topic,
        'messaging.consumer.group.name': this.options.consumer,
        'messaging.message.id': envelope.id,
        'messaging.kafka.offset': record.offset,
      },
      () => this.handleWithRetries(accepted, handler),
    );
  }

  private async handleWithRetries(accepted: AcceptedRecord, handler: InboxHandler): Promise<Outcome> {
    const { envelope, record } = accepted;
    const result = await this.pipeline.withRetries(() => this.runOnce(accepted, handler), 'event handler failed; will retry', {
      eventId: envelope.id,
      eventType: envelope.type,
    });
    if (result.ok) return result.value;
    return this.pipeline.deadLetter(record, { ...result.failure, envelope });
  }

  private runOnce(accepted: AcceptedRecord, handler: InboxHandler): Promise<Outcome> {
    return this.pipeline.inTransaction([accepted], async (fresh, em) => {
      if (fresh.length === 0) return 'duplicate';
      const { record } = accepted;
      const works: (() => Promise<void>)[] = [];
      await handler(accepted.envelope, {
        em,
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        headers: accepted.headers,
        beforeCommit: (work) => works.push(work),
      });
      await runBeforeCommit(works);
      return 'processed';
    });
  }
}
