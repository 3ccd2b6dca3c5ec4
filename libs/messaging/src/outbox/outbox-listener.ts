import { Client, type ClientConfig } from 'pg';

/** The channel the outbox trigger notifies on commit (MESSAGING_SCHEMA_V2_OUTBOX_WRITTEN). */
export const OUTBOX_CHANNEL = 'sonet_outbox_written';

/** The longest wait between two attempts to listen again after the connection is lost. */
const MAX_RECONNECT_MS = 5_000;

export interface OutboxListenerOptions {
  /** Where the outbox lives (the service's own database). */
  readonly connection: ClientConfig;
  /** Called on every notification, and once each time listening (re)starts: rows may have come meanwhile. */
  readonly onWritten: () => void;
  readonly onError?: (error: Error) => void;
}

/**
 * Listens for the outbox's commit notifications (PostgreSQL LISTEN on one dedicated connection) so the relay
 * publishes a row as soon as the transaction that wrote it commits, whichever replica wrote it, instead of on
 * its next poll. A notification is a hint, never the record: the relay still polls (less often while this
 * listens), so a notification lost while the connection is down delays a row, never loses it.
 */
export class OutboxListener {
  private client: Client | undefined;
  private connected = false;
  private stopped = true;
  private failures = 0;
  private retry: NodeJS.Timeout | undefined;

  constructor(private readonly options: OutboxListenerOptions) {}

  /** Whether notifications are arriving now (the relay may then poll less often). */
  get listening(): boolean {
    return this.connected;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    this.retry = undefined;
    this.connected = false;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({ ...this.options.connection, keepAlive: true });
    this.client = client;
    let lost = false;
    const onLost = (error?: Error) => {
      if (lost) return;
      lost = true;
      this.connected = false;
      if (error) this.options.onError?.(error);
      if (this.client === client) this.client = undefined;
      client.end().catch(() => undefined);
      this.scheduleReconnect();
    };
    client.on('notification', () => this.options.onWritten());
    client.on('error', (e) => onLost(e));
    client.on('end', () => onLost());
    try {
      await client.connect();
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
      if (lost || this.stopped) return;
      this.connected = true;
      this.failures = 0;
      this.options.onWritten();
    } catch (e) {
      onLost(e as Error);
    }
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retry) return;
    this.failures += 1;
    const delay = Math.min(MAX_RECONNECT_MS, 250 * 2 ** Math.min(this.failures, 5));
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.connect();
    }, delay);
    this.retry.unref();
  }
}
