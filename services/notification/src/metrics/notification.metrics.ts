import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { metrics } from '@opentelemetry/api';

/**
 * `sonet.notifications` by `notification.channel` and `notification.status` (pending, sent, failed, …): the
 * outcome of every notification so far, read from the database when /metrics is scraped, so it is right whichever
 * sender (SMTP, GOV.UK Notify) recorded the outcome and across restarts. Its increase over time is the rate.
 */
@Injectable()
export class NotificationMetrics implements OnApplicationBootstrap {
  constructor(private readonly orm: MikroORM) {}

  onApplicationBootstrap(): void {
    metrics
      .getMeter('sonet-notification')
      .createObservableGauge('sonet.notifications', { description: 'Notifications by channel and outcome' })
      .addCallback(async (result) => {
        const rows = await this.orm.em
          .fork()
          .execute<{ channel: string; status: string; n: string }[]>(
            'select channel, status, count(*) as n from notification group by channel, status',
          );
        for (const r of rows) result.observe(Number(r.n), { 'notification.channel': r.channel, 'notification.status': r.status });
      });
  }
}
