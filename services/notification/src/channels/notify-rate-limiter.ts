import { Inject, Injectable } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { NOTIFICATION_CONFIG, type NotificationConfig } from '../config';

/** Fixed windows of 10 s: any 60 s of Notify's sliding minute overlaps at most 7 of them. */
export const RATE_WINDOW_MS = 10_000;
const WINDOWS_PER_SLIDING_MINUTE = 7;

/** Sends allowed per 10-second window so that no 60 seconds ever exceed the per-minute limit. */
export const sendsPerWindow = (perMinute: number): number => Math.max(1, Math.floor(perMinute / WINDOWS_PER_SLIDING_MINUTE));

/**
 * GOV.UK Notify's per-key rate limit, shared by every replica of the service: one PostgreSQL row per key holds the
 * current window and how much of it is used, counted up in one atomic upsert (the row lock orders replicas), on
 * the database's clock (replicas' clocks may differ).
 */
@Injectable()
export class NotifyRateLimiter {
  private readonly perWindow: number;

  constructor(
    private readonly orm: MikroORM,
    @Inject(NOTIFICATION_CONFIG) config: NotificationConfig,
  ) {
    this.perWindow = sendsPerWindow(config.NOTIFY_RATE_LIMIT_PER_MINUTE);
  }

  /** Takes one send for `bucket` (the API key's name); returns undefined if taken, else when the next window opens. */
  async take(bucket: string): Promise<Date | undefined> {
    const [row] = await this.orm.em.fork().execute<{ used: number; window_start: Date }[]>(
      `insert into notify_rate_window as w (bucket, window_start, used)
       values (?, to_timestamp(floor(extract(epoch from clock_timestamp()) * 1000 / ?) * ? / 1000.0), 1)
       on conflict (bucket) do update
          set used = case when w.window_start >= excluded.window_start then w.used + 1 else 1 end,
              window_start = greatest(w.window_start, excluded.window_start)
       returning used, window_start`,
      [bucket, RATE_WINDOW_MS, RATE_WINDOW_MS],
    );
    if (!row || Number(row.used) <= this.perWindow) return undefined;
    return new Date(new Date(row.window_start).getTime() + RATE_WINDOW_MS);
  }
}
