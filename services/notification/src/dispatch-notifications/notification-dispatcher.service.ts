import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { NOTIFICATION_CONFIG, type NotificationConfig } from '../config';
import { safeErrorMessage } from '../domain/redaction';
import { DispatchNotificationsHandler } from './dispatch-notifications.handler';

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

/**
 * Polls for due notifications for as long as the app runs. Started once the app has bootstrapped (not in a
 * provider factory); on shutdown it lets the batch in flight finish, so no send is left without its outcome.
 */
@Injectable()
export class NotificationDispatcherService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(NotificationDispatcherService.name);
  private abort = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly handler: DispatchNotificationsHandler,
    @Inject(NOTIFICATION_CONFIG) private readonly config: NotificationConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.loop) return;
    this.abort = new AbortController();
    const signal = this.abort.signal;
    const interval = this.config.DISPATCH_INTERVAL_MS;
    this.loop = (async () => {
      let failures = 0;
      while (!signal.aborted) {
        try {
          const claimed = await this.handler.dispatchBatch();
          failures = 0;
          if (claimed < this.config.DISPATCH_BATCH_SIZE) await sleep(interval, signal);
        } catch (e) {
          failures++;
          this.logger.warn({ error: safeErrorMessage(e), failures }, 'dispatcher poll failed; backing off');
          await sleep(Math.min(30_000, interval * 2 ** Math.min(failures, 6)), signal);
        }
      }
    })();
    this.logger.log(`dispatcher polling every ${interval} ms`);
  }

  async onApplicationShutdown(): Promise<void> {
    this.abort.abort();
    await this.loop;
    this.loop = undefined;
  }
}
