import type { MikroORM } from '@mikro-orm/postgresql';
import type { ClientConfig } from 'pg';
import { OutboxListener } from './outbox-listener';
import type { MessagePublisher, OutgoingRecord } from '../port';
import { PollLoop } from '../poll-loop';
import { startPublishSpans } from '../trace';

export interface RelayOptions {
  /** Rows published per transaction. */
  readonly batchSize?: number;
  /** Pause between polls when the outbox is empty (default 200 ms). */
  readonly idleMs?: number;
  /**
   * Listen for the outbox's commit notifications on this database: a row is then published as soon as it is
   * committed, and the relay polls only every `idleWhileListeningMs` (default 1 s) for what a lost notification
   * left behind. Needs the trigger of MESSAGING_SCHEMA_V2_OUTBOX_WRITTEN.
   */
  readonly listen?: ClientConfig;
  readonly idleWhileListeningMs?: number;
  /** Advisory lock key: one relay at a time per database publishes, so per-key order holds across replicas. */
  readonly lockKey?: number;
  readonly onError?: (error: Error) => void;
}

interface OutboxRow {
  id: string;
  topic: string;
  key: string;
  headers: Record<string, string>;
  value: string;
}

/**
 * Publishes outbox rows in insertion order. Rows are locked (FOR UPDATE SKIP LOCKED), sent, acknowledged
 * by Kafka and only then marked published, in one transaction: a crash before the mark re-sends the batch
 * (at-least-once; consumers dedupe on event id), a clean stop never does.
 */
/** The longest pause between two failed rounds of the relay. */
export const RELAY_MAX_BACKOFF_MS = 2_000;

export class OutboxRelay {
  private readonly batchSize: number;
  private readonly idleMs: number;
  private readonly lockKey: number;
  private readonly loop: PollLoop;
  private readonly listener: OutboxListener | undefined;

  constructor(
    private readonly orm: MikroORM,
    private readonly publisher: MessagePublisher,
    private readonly options: RelayOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 200;
    this.idleMs = options.idleMs ?? 200;
    this.lockKey = options.lockKey ?? 0x50_4e_4f_58; // "OUTX"
    const idleWhileListening = options.idleWhileListeningMs ?? 1_000;
    this.listener = options.listen
      ? new OutboxListener({
          connection: options.listen,
          onWritten: () => this.loop.wake(),
          ...(options.onError ? { onError: options.onError } : {}),
        })
      : undefined;
    this.loop = new PollLoop({
      // A full batch means more rows may be waiting: publish the next one at once.
      poll: async () => (await this.publishBatch()) >= this.batchSize,
      idleMs: () => (this.listener?.listening ? idleWhileListening : this.idleMs),
      // While the database or Kafka is down, try again at least every 2 s: events flow again within seconds of their return.
      maxBackoffMs: RELAY_MAX_BACKOFF_MS,
      ...(options.onError ? { onError: options.onError } : {}),
    });
  }

  /** Publishes one batch; returns how many rows it published (0 when empty or another relay holds the lock). */
  async publishBatch(): Promise<number> {
    const em = this.orm.em.fork();
    return em.transactional(async (tem) => {
      const [lock] = await tem.execute<{ locked: boolean }[]>('select pg_try_advisory_xact_lock(?) as locked', [this.lockKey]);
      if (!lock?.locked) return 0;
      const rows = await tem.execute<OutboxRow[]>(
        `select id, topic, key, headers, value from outbox
         where published_at is null order by seq limit ? for update skip locked`,
        [this.batchSize],
      );
      if (rows.length === 0) return 0;
      const spans = startPublishSpans<OutgoingRecord>(
        rows.map((r) => ({ topic: r.topic, message: { key: r.key, value: Buffer.from(r.value, 'utf8'), headers: r.headers } })),
      );
      try {
        await this.publisher.publish(spans.records);
        spans.end();
      } catch (e) {
        spans.end(e as Error);
        throw e;
      }
      // One placeholder per id: the driver expands an array parameter into a list, not a Postgres array.
      const ids = rows.map((r) => r.id);
      await tem.execute(`update outbox set published_at = now() where id in (${ids.map(() => '?').join(', ')})`, ids);
      return rows.length;
    });
  }

  start(): void {
    this.loop.start();
    this.listener?.start();
  }

  /** Waits for the batch in flight to finish, so a clean stop never re-sends. */
  async stop(): Promise<void> {
    await this.listener?.stop();
    await this.loop.stop();
  }

  /** Whether commit notifications are arriving (metrics and tests). */
  get listening(): boolean {
    return this.listener?.listening ?? false;
  }

  /** Rows waiting to be published, and how long the oldest has waited (the outbox metrics). */
  async pending(): Promise<{ backlog: number; oldestAgeSeconds: number }> {
    const [row] = await this.orm.em
      .fork()
      .execute<{ n: string; age: string | null }[]>(
        'select count(*) as n, extract(epoch from now() - min(created_at)) as age from outbox where published_at is null',
      );
    return { backlog: Number(row?.n ?? 0), oldestAgeSeconds: Number(row?.age ?? 0) };
  }

  /** Rows waiting to be published (for readiness and metrics). */
  async backlog(): Promise<number> {
    const [row] = await this.orm.em.fork().execute<{ n: string }[]>('select count(*) as n from outbox where published_at is null');
    return Number(row?.n ?? 0);
  }
}
