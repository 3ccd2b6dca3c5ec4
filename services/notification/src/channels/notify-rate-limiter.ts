import { Inject, Injectable } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { NOTIFICATION_CONFIG, type NotificationConfig } from '../config';

/** Fixed windows of 10 s: any 60 s of Notify's sliding minute overlaps at most 7 of them. */
export const RATE_WINDOW_MS = 10_000;
const WINDOWS_PER_SLIDING_MINUTE = 7;

/** Sends allowed per 10-second window so that no 60 seconds ever exceed the per-minute limit. */
export const sendsPerWindow = (perMinute: number): number => Math.max(1, Math.floor(perMinute / WINDOWS_PER_SLIDING_MINUTE));

/** What a take of several sends got: `granted` of them now; the rest wait until `nextWindowAt`. */
export interface RateGrant {
  readonly granted: number;
  readonly nextWindowAt: Date;
}

/**
 * How many of `asked` sends a window grants, from the window's count after the take (`usedAfter` counts every send
 * asked for in the window, granted or not, so a refused take leaves it over the budget until the window ends).
 */
export const grantedOf = (asked: number, usedAfter: number, perWindow: number): number =>
  Math.max(0, Math.min(asked, perWindow - (usedAfter - asked)));

/**
 * GOV.UK Notify's per-key rate limit, shared by every replica of the service: one PostgreSQL row per key holds the
 * current window and how much of it is used, counted up in one atomic upsert (the row lock orders replicas), on
 * the database's clock (replicas' clocks may differ). A dispatcher takes the sends of its whole batch in one
 * statement, so the row is locked once per batch, not once per message.
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
    const { granted, nextWindowAt } = await this.takeMany(bucket, 1);
    return granted === 1 ? undefined : nextWindowAt;
  }

  /** Takes up to `asked` sends for `bucket` at once: how many were granted, and when the next window opens. */
  async takeMany(bucket: string, asked: number): Promise<RateGrant> {
    if (asked <= 0) return { granted: 0, nextWindowAt: new Date() };
    const [row] = await this.orm.em.fork().execute<{ used: number; window_start: Date }[]>(
      `insert into notify_rate_window as w (bucket, window_start, used)
       values (?, to_timestamp(floor(extract(epoch from clock_timestamp()) * 1000 / ?) * ? / 1000.0), ?)
       on conflict (bucket) do update
          set used = case when w.window_start >= excluded.window_start then w.used + excluded.used else excluded.used end,
              window_start = greatest(w.window_start, excluded.window_start)
       returning used, window_start`,
      [bucket, RATE_WINDOW_MS, RATE_WINDOW_MS, asked],
    );
    if (!row) throw new Error('the rate limiter row was not returned');
    return {
      granted: grantedOf(asked, Number(row.used), this.perWindow),
      nextWindowAt: new Date(new Date(row.window_start).getTime() + RATE_WINDOW_MS),
    };
  }
}
