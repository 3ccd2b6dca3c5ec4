import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { EnvelopeError, fromWireMessage, headerTextMap, type EventEnvelope, type EventRegistry } from '@sonet/contracts';
import { deadLetter } from './dead-letter';
import type { MessagePublisher, ReceivedRecord } from '../port';
import { contextFromTraceHeaders, inConsumerSpan } from '../trace';

/** What a handler sees besides the event: the transaction its writes must use, and where the event came from. */
export interface InboxContext {
  /** Transactional EntityManager: the inbox row and the handler's writes commit together. */
  readonly em: EntityManager;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** Every Kafka header as received (ce_*, traceparent and any others), for consumers that keep them verbatim. */
  readonly headers: Readonly<Record<string, string>>;
}

export type InboxHandler = (envelope: EventEnvelope, ctx: InboxContext) => Promise<void>;

/** Thrown by a handler when retrying cannot help (the event is wrong, not the moment): dead-letter at once. */
export class PermanentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

export type Outcome = 'processed' | 'duplicate' | 'skipped' | 'dead-lettered';

export interface InboxProcessorOptions {
  /** The consumer group; also the inbox's dedupe scope. */
  readonly consumer: string;
  readonly registry: EventRegistry;
  /** The handler for an event type, or undefined to skip that type. */
  readonly resolve: (type: string) => InboxHandler | undefined;
  /** Validate data against the registry's schema (off only for consumers that keep events verbatim, e.g. audit). */
  readonly validateData?: boolean;
  readonly maxAttempts?: number;
  readonly backoffMs?: number;
  readonly log?: (level: 'warn' | 'error' | 'info', message: string, extra: Record<string, unknown>) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Idempotent consumer step for one Kafka record: parse the CloudEvent, validate it, and run its handler in
 * one database transaction together with an inbox row keyed by (consumer, event id). A second delivery of
 * the same event id finds the row and changes nothing. Records that cannot be parsed or validated, or whose
 * handler keeps failing, are dead-lettered with the reason in headers, and the consumer goes on.
 * The caller commits the Kafka offset only after this resolves.
 */
export class InboxProcessor {
  private readonly maxAttempts: number;
  private readonly backoffMs: number;

  constructor(
    private readonly orm: MikroORM,
    private readonly dlqPublisher: () => Promise<MessagePublisher>,
    private readonly options: InboxProcessorOptions,
  ) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.backoffMs = options.backoffMs ?? 200;
  }

  async handle(record: ReceivedRecord): Promise<Outcome> {
    let envelope: EventEnvelope;
    try {
      envelope = fromWireMessage(record);
    } catch (e) {
      if (e instanceof EnvelopeError) return this.deadLetter(record, 'invalid-envelope', e.message, 0);
      throw e;
    }
    const handler = this.options.resolve(envelope.type);
    if (!handler) return 'skipped';
    if (this.options.validateData !== false) {
      const parsed = this.options.registry.parse(envelope.type, envelope.data);
      if (!parsed.ok) return this.deadLetter(record, 'invalid-data', parsed.reason, 0, envelope);
      envelope = { ...envelope, data: parsed.data };
    }
    const parent = contextFromTraceHeaders(envelope);
    return inConsumerSpan(
      `${envelope.type} process`,
      parent,
      {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.destination.name': record.topic,
        'messaging.consumer.group.name': this.options.consumer,
        'messaging.message.id': envelope.id,
        'messaging.kafka.offset': record.offset,
      },
      () => this.runWithRetries(record, envelope, handler),
    );
  }

  private async runWithRetries(record: ReceivedRecord, envelope: EventEnvelope, handler: InboxHandler): Promise<Outcome> {
    let lastError: Error = new Error('not attempted');
    let attempts = 0;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      attempts = attempt;
      try {
        return await this.runOnce(record, envelope, handler);
      } catch (e) {
        lastError = e as Error;
        if (e instanceof PermanentError || (e as Error).name === 'ZodError') break;
        this.options.log?.('warn', 'event handler failed; will retry', {
          consumer: this.options.consumer,
          eventId: envelope.id,
          eventType: envelope.type,
          attempt,
          error: lastError.message,
        });
        if (attempt < this.maxAttempts) await sleep(this.backoffMs * 2 ** (attempt - 1));
      }
    }
    const kind = lastError instanceof PermanentError ? 'rejected' : 'handler-failed';
    // The attempts actually made: fewer than maxAttempts when a permanent error stopped the retries.
    return this.deadLetter(record, kind, lastError.message, attempts, envelope);
  }

  private async runOnce(record: ReceivedRecord, envelope: EventEnvelope, handler: InboxHandler): Promise<Outcome> {
    const em = this.orm.em.fork();
    return em.transactional(async (tem) => {
      const inserted = await tem.execute<{ event_id: string }[]>(
        `insert into inbox (consumer, event_id, event_type, topic, partition, "offset")
         values (?, ?, ?, ?, ?, ?) on conflict do nothing returning event_id`,
        [this.options.consumer, envelope.id, envelope.type, record.topic, record.partition, record.offset],
      );
      if (inserted.length === 0) return 'duplicate' as const;
      await handler(envelope, {
        em: tem,
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        headers: headerTextMap(record.headers),
      });
      return 'processed' as const;
    });
  }

  private async deadLetter(record: ReceivedRecord, kind: string, reason: string, attempts: number, envelope?: EventEnvelope): Promise<Outcome> {
    await deadLetter(this.dlqPublisher, this.options.consumer, this.options.log, record, { kind, reason, attempts, envelope });
    return 'dead-lettered';
  }
}
