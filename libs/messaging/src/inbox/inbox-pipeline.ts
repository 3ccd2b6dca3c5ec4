import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { EventEnvelope, EventRegistry } from '@sonet/contracts';
import { unreachableDependency } from '@sonet/service-kit';
import type { MessagePublisher, ReceivedRecord } from '../port';
import { admit, validateData } from './admission';
import { deadLetter, type InboxLog } from './dead-letter';
import { countDeadLetter, countInboxRetry } from '../metrics';

/** Thrown by a handler when retrying cannot help (the event is wrong, not the moment): dead-letter at once. */
export class PermanentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

/** Settings both modes of the inbox share (per record and per batch). */
export interface InboxPipelineOptions {
  /** The consumer group; also the inbox's dedupe scope. */
  readonly consumer: string;
  readonly registry: EventRegistry;
  /** Validate data against the registry's schema (off only for consumers that keep events verbatim, e.g. audit). */
  readonly validateData?: boolean;
  readonly maxAttempts?: number;
  readonly backoffMs?: number;
  readonly log?: InboxLog;
}

/** A record that may reach a handler: its envelope (data validated unless validation is off) and headers as text. */
export interface AcceptedRecord {
  readonly record: ReceivedRecord;
  readonly envelope: EventEnvelope;
  readonly headers: Readonly<Record<string, string>>;
}

/** Why the handling of a record (or of a group of them) was given up, and after how many attempts. */
export interface HandlingFailure {
  readonly kind: 'rejected' | 'handler-failed';
  readonly reason: string;
  /** The attempts actually made: fewer than maxAttempts when a permanent error stopped the retries. */
  readonly attempts: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const isPermanent = (e: Error) => e instanceof PermanentError || e.name === 'ZodError';

/**
 * The one mechanism behind both inbox modes: read and validate a record (or dead-letter it), handle it with
 * retries in a transaction that records it in the inbox, and dead-letter it when handling is given up. The modes
 * differ only in how many accepted records one transaction handles.
 */
export class InboxPipeline {
  private readonly maxAttempts: number;
  private readonly backoffMs: number;

  constructor(
    private readonly orm: MikroORM,
    private readonly dlqPublisher: () => Promise<MessagePublisher>,
    private readonly options: InboxPipelineOptions,
  ) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.backoffMs = options.backoffMs ?? 200;
  }

  /**
   * The record ready for a handler, 'skipped' when `wanted` says this consumer ignores its type, or 'dead-lettered'.
   * The referral and encoding checks come before the skip, validation after it (as before: an unhandled type's data
   * is never validated).
   */
  async accept(
    record: ReceivedRecord,
    wanted: (type: string) => boolean = () => true,
  ): Promise<AcceptedRecord | 'skipped' | 'dead-lettered'> {
    const read = admit(record);
    if (!read.ok) return this.deadLetter(record, { ...read.refusal, attempts: 0 });
    let envelope = read.admitted.envelope;
    if (!wanted(envelope.type)) return 'skipped';
    if (this.options.validateData !== false) {
      const valid = validateData(this.options.registry, envelope);
      if (!valid.ok) return this.deadLetter(record, { ...valid.refusal, attempts: 0 });
      envelope = valid.envelope;
    }
    return { record, envelope, headers: read.admitted.headers };
  }

  /**
   * Runs attempt until it succeeds, a permanent error occurs, or maxAttempts are used up, backing off between tries.
   * An unreachable dependency is thrown at once: the record is handled again later, never given up.
   */
  async withRetries<T>(
    attempt: () => Promise<T>,
    warning: string,
    extra: Record<string, unknown>,
    maxAttempts = this.maxAttempts,
  ): Promise<{ ok: true; value: T } | { ok: false; failure: HandlingFailure }> {
    let lastError: Error = new Error('not attempted');
    let attempts = 0;
    while (attempts < maxAttempts) {
      attempts++;
      try {
        return { ok: true, value: await attempt() };
      } catch (e) {
        lastError = e as Error;
        if (isPermanent(lastError)) break;
        // The database or Temporal cannot be reached: the moment is wrong, not the record. It must not be dead-lettered;
        // the consumer stops here (offset not committed) and the broker adapter delivers it again until they are back.
        const dependency = unreachableDependency(lastError);
        if (dependency) {
          this.options.log?.('warn', `${dependency} unreachable; the record will be delivered again`, {
            consumer: this.options.consumer,
            ...extra,
            error: lastError.message,
          });
          throw lastError;
        }
        this.options.log?.('warn', warning, { consumer: this.options.consumer, ...extra, attempt: attempts, error: lastError.message });
        if (attempts < maxAttempts) {
          countInboxRetry(this.options.consumer);
          await sleep(this.backoffMs * 2 ** (attempts - 1));
        }
      }
    }
    const kind = lastError instanceof PermanentError ? 'rejected' : 'handler-failed';
    return { ok: false, failure: { kind, reason: lastError.message, attempts } };
  }

  /**
   * One transaction: the inbox rows of every accepted record, then fn with the records that were new (the first
   * delivery of each new event id, in order; a batch may hold the same event twice). Throwing rolls it all back.
   */
  async inTransaction<T>(
    accepted: readonly AcceptedRecord[],
    fn: (fresh: readonly AcceptedRecord[], em: EntityManager) => Promise<T>,
  ): Promise<T> {
    return this.orm.em.fork().transactional(async (em) => {
      const values = accepted.map(() => '(?, ?, ?, ?, ?, ?)').join(', ');
      const params = accepted.flatMap((a) => [
        this.options.consumer,
        a.envelope.id,
        a.envelope.type,
        a.record.topic,
        a.record.partition,
        a.record.offset,
      ]);
      const inserted = await em.execute<{ event_id: string }[]>(
        `insert into inbox (consumer, event_id, event_type, topic, partition, "offset") values ${values} on conflict do nothing returning event_id`,
        params,
      );
      const newIds = new Set(inserted.map((r) => r.event_id));
      return fn(
        accepted.filter((a) => newIds.delete(a.envelope.id)),
        em,
      );
    });
  }

  async deadLetter(
    record: ReceivedRecord,
    failure: { kind: string; reason: string; attempts: number; envelope?: EventEnvelope | undefined },
  ): Promise<'dead-lettered'> {
    await deadLetter(this.dlqPublisher, this.options.consumer, this.options.log, record, failure);
    countDeadLetter(this.options.consumer, record.topic, failure.kind);
    return 'dead-lettered';
  }
}
