import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { PollLoop } from '@sonet/messaging';
import { NOTIFICATION_CONFIG, type NotificationConfig } from '../config';
import { safeErrorMessage } from '../domain/redaction';
import { DispatchNotificationsHandler } from './dispatch-notifications.handler';

/**
 * Polls for due notifications for as long as the app runs. Started once the app has bootstrapped (not in a
 * provider factory); on shutdown it lets the batch in flight finish, so no send is left without its outcome.
 */
@Injectable()
export class NotificationDispatcherService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(NotificationDispatcherService.name);
  private readonly loop: PollLoop;

  constructor(
    handler: DispatchNotificationsHandler,
    @Inject(NOTIFICATION_CONFIG) private readonly config: NotificationConfig,
  ) {
    this.loop = new PollLoop({
      // A full batch means more notifications may be due: claim the next one at once.
      poll: async () => (await handler.dispatchBatch()) >= config.DISPATCH_BATCH_SIZE,
      idleMs: config.DISPATCH_INTERVAL_MS,
      maxDoublings: 6,
      onError: (e, failures) => this.logger.warn({ error: safeErrorMessage(e), failures }, 'dispatcher poll failed; backing off'),
    });
  }

  onApplicationBootstrap(): void {
    if (this.loop.running) return;
    this.loop.start();
    this.logger.log(`dispatcher polling every ${this.config.DISPATCH_INTERVAL_MS} ms`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }
}
