import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { context } from '@opentelemetry/api';
import { contextFromTraceHeaders } from '@sonet/messaging';
import { NOTIFICATION_CONFIG, type NotificationConfig } from '../config';
import type { RouteStep } from '../domain/channel';
import { Notification } from '../domain/entities';
import { safeErrorMessage } from '../domain/redaction';
import { EMAIL_SENDER, SendError, type EmailSender } from '../channels/email.sender';
import { NOTIFY_SENDER, NotifySender, RateLimitedError } from '../channels/notify.sender';
import { NotifyRateLimiter } from '../channels/notify-rate-limiter';
import { fallBackOrGiveUp, markSent, recordAttempt, type RouteState } from './notification-outcomes';

/** A notification this dispatcher has claimed (leased) for one send attempt. */
export interface ClaimedNotification extends RouteState {
  readonly address: string | null;
  readonly subject: string;
  readonly bodyText: string;
  readonly smsText: string | null;
  /** Attempts on this channel including this one. */
  readonly attempts: number;
  readonly traceparent: string | null;
}

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
}

export type FailureDecision = { readonly kind: 'retry'; readonly nextAttemptAt: Date } | { readonly kind: 'give-up' };

/** Exponential backoff after the n-th failed attempt: base, 2·base, 4·base … capped. */
export const backoffDelayMs = (attempt: number, policy: RetryPolicy): number =>
  Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** Math.max(0, attempt - 1));

/** After a failed attempt: retry later, or give up when the failure is permanent or the attempts are used up. */
export function decideAfterFailure(attempts: number, permanent: boolean, policy: RetryPolicy, now: Date): FailureDecision {
  if (permanent || attempts >= policy.maxAttempts) return { kind: 'give-up' };
  return { kind: 'retry', nextAttemptAt: new Date(now.getTime() + backoffDelayMs(attempts, policy)) };
}

interface ClaimedRow {
  id: string;
  referral_id: string;
  causation_event_id: string;
  recipient_role: ClaimedNotification['recipientRole'];
  channel: Notification['channel'];
  recipient_address: string | null;
  fallbacks: RouteStep[] | string;
  route_step: number;
  template: string;
  subject: string;
  body_text: string;
  sms_text: string | null;
  attempts: number;
  traceparent: string | null;
}

const toClaimed = (r: ClaimedRow): ClaimedNotification => ({
  id: r.id,
  referralId: r.referral_id,
  causationEventId: r.causation_event_id,
  recipientRole: r.recipient_role,
  channel: r.channel,
  address: r.recipient_address,
  fallbacks: typeof r.fallbacks === 'string' ? (JSON.parse(r.fallbacks) as RouteStep[]) : r.fallbacks,
  routeStep: Number(r.route_step),
  template: r.template,
  subject: r.subject,
  bodyText: r.body_text,
  smsText: r.sms_text,
  attempts: Number(r.attempts),
  traceparent: r.traceparent,
});

/** How one claimed notification goes out: SMTP, or GOV.UK Notify (keyed by its reference), or no sender at all. */
type Route = { readonly via: 'smtp' } | { readonly via: 'notify'; readonly notify: NotifySender } | { readonly via: 'none' };

/**
 * Sends due notifications. A poll claims a small batch in one statement (`FOR UPDATE SKIP LOCKED`, so replicas
 * never claim the same row): the claim counts the attempt and pushes next_attempt_at out by a lease, and no
 * transaction is held open across a send. Each outcome is written in its own transaction with its event in the
 * outbox. SMTP: a crash between the hand-off and that commit re-sends with the same Message-ID. Notify: the
 * re-claim first asks Notify for a message with our reference and adopts it, so nothing is sent twice.
 * A channel failing for good falls back to the recipient's next channel (notification-outcomes.ts).
 */
@Injectable()
export class DispatchNotificationsHandler {
  private readonly logger = new Logger(DispatchNotificationsHandler.name);
  private readonly policy: RetryPolicy;

  constructor(
    private readonly orm: MikroORM,
    @Inject(EMAIL_SENDER) private readonly email: EmailSender,
    @Inject(NOTIFICATION_CONFIG) private readonly config: NotificationConfig,
    @Optional() @Inject(NOTIFY_SENDER) private readonly notify: NotifySender | null = null,
    @Optional() private readonly limiter: NotifyRateLimiter | null = null,
  ) {
    this.policy = {
      maxAttempts: config.MAX_SEND_ATTEMPTS,
      backoffBaseMs: config.SEND_BACKOFF_BASE_MS,
      backoffMaxMs: config.SEND_BACKOFF_MAX_MS,
    };
  }

  /** Claims and sends one batch; returns how many notifications it claimed. */
  async dispatchBatch(): Promise<number> {
    const claimed = await this.claim();
    // Concurrently, so every claimed row is finished well within its lease.
    // Each send runs in the trace of the event that caused it, so its outcome event continues that trace.
    await Promise.all(
      claimed.map((n) =>
        context.with(n.traceparent ? contextFromTraceHeaders({ traceparent: n.traceparent }) : context.active(), () => this.dispatchOne(n)),
      ),
    );
    return claimed.length;
  }

  async claim(): Promise<ClaimedNotification[]> {
    const rows = await this.orm.em.fork().execute<ClaimedRow[]>(
      `update notification n
          set attempts = n.attempts + 1,
              next_attempt_at = now() + ? * interval '1 millisecond'
        where n.id in (select id from notification
                        where status = 'pending' and next_attempt_at <= now()
                        order by next_attempt_at
                        limit ?
                        for update skip locked)
       returning n.id, n.referral_id, n.causation_event_id, n.recipient_role, n.channel, n.recipient_address, n.fallbacks,
                 n.route_step, n.template, n.subject, n.body_text, n.sms_text, n.attempts, n.traceparent`,
      [this.config.SEND_LEASE_MS, this.config.DISPATCH_BATCH_SIZE],
    );
    return rows.map(toClaimed);
  }

  private routeOf(n: ClaimedNotification): Route {
    if (n.channel === 'email' && this.config.EMAIL_PROVIDER === 'smtp') return { via: 'smtp' };
    return this.notify ? { via: 'notify', notify: this.notify } : { via: 'none' };
  }

  private async dispatchOne(n: ClaimedNotification): Promise<void> {
    try {
      const route = this.routeOf(n);
      if (n.attempts > this.policy.maxAttempts) {
        // Claimed before, but no outcome was ever recorded (the process died mid-send, repeatedly).
        return await this.onFailure(n, route, new SendError('attempts used up without a recorded outcome', true));
      }
      if (!n.address) return await this.onFailure(n, route, new SendError(`no address for ${n.channel}`, true));
      if (route.via === 'none')
        return await this.onFailure(n, route, new SendError(`no sender for ${n.channel} (Notify is not configured)`, true));
      const providerId = route.via === 'smtp' ? await this.sendSmtp(n, n.address) : await this.sendNotify(n, n.address, route.notify);
      if (providerId !== 'deferred') await this.onSent(n, route, providerId);
    } catch (e) {
      await this.onError(n, e);
    }
  }

  private async onError(n: ClaimedNotification, e: unknown): Promise<void> {
    try {
      if (e instanceof RateLimitedError)
        return await this.defer(n, new Date(Date.now() + this.config.NOTIFY_RATE_LIMIT_BACKOFF_MS), e.message);
      await this.onFailure(n, this.routeOf(n), e instanceof SendError ? e : new SendError(safeErrorMessage(e), false));
    } catch (recordError) {
      // Recording the outcome failed (database down): the lease runs out and the row is claimed again.
      this.logger.error(
        { notificationId: n.id, error: safeErrorMessage(recordError) },
        'could not record the outcome of a send; it will be retried',
      );
    }
  }

  private async sendSmtp(n: ClaimedNotification, to: string): Promise<null> {
    await this.email.send({ notificationId: n.id, to, subject: n.subject, text: n.bodyText });
    return null;
  }

  /** Notify's id of the accepted message, or 'deferred' when the shared rate limit asks us to wait. */
  private async sendNotify(n: ClaimedNotification, to: string, notify: NotifySender): Promise<string | 'deferred'> {
    if (n.attempts > 1) {
      // An earlier try of this channel may have been accepted without our commit (crash): ask before sending again.
      const earlier = await notify.findByReference(n.id, n.channel);
      if (earlier) return earlier.providerId;
    }
    const wait = this.limiter ? await this.limiter.take('notify') : undefined;
    if (wait) {
      await this.defer(n, wait, 'waiting for the shared Notify rate limit');
      return 'deferred';
    }
    const text = n.channel === 'sms' ? (n.smsText ?? n.bodyText) : n.bodyText;
    return (await notify.send({ notificationId: n.id, channel: n.channel, to, subject: n.subject, text })).providerId;
  }

  /** Not this message's fault (rate limit): it waits, and the attempt it claimed is given back. */
  private async defer(n: ClaimedNotification, until: Date, reason: string): Promise<void> {
    await this.orm.em
      .fork()
      .nativeUpdate(
        Notification,
        { id: n.id, status: 'pending', attempts: n.attempts },
        { attempts: n.attempts - 1, nextAttemptAt: until, lastError: reason },
      );
  }

  private async onSent(n: ClaimedNotification, route: Route, providerId: string | null): Promise<void> {
    const now = new Date();
    const provider = route.via === 'notify' ? 'notify' : 'smtp';
    const updated = await this.orm.em.fork().transactional((em) =>
      // Guarded by the attempt we claimed: if our lease ran out and another dispatcher took the row over,
      // only one of us records the outcome and emits the event.
      markSent(
        em,
        n,
        { id: n.id, status: 'pending', attempts: n.attempts },
        { status: 'sent', provider, providerId, tries: n.attempts },
        now,
      ),
    );
    const log = { notificationId: n.id, referralId: n.referralId, template: n.template, channel: n.channel, attempts: n.attempts };
    if (updated) this.logger.log(log, 'notification sent');
    else this.logger.warn(log, 'notification was taken over by another dispatcher; outcome not recorded twice');
  }

  private async onFailure(n: ClaimedNotification, route: Route, error: SendError): Promise<void> {
    const now = new Date();
    const decision = decideAfterFailure(n.attempts, error.permanent, this.policy, now);
    const guard = { id: n.id, status: 'pending' as const, attempts: n.attempts };
    const provider = route.via === 'none' ? null : route.via;
    const attempt = { provider, reason: error.message, tries: n.attempts } as const;
    const log = { notificationId: n.id, referralId: n.referralId, channel: n.channel, attempts: n.attempts, error: error.message };
    if (decision.kind === 'retry') {
      await this.orm.em.fork().transactional(async (em) => {
        const count = await em.nativeUpdate(Notification, guard, { nextAttemptAt: decision.nextAttemptAt, lastError: error.message });
        if (count > 0) await recordAttempt(em, n, { ...attempt, status: 'sending' }, now);
      });
      this.logger.warn({ ...log, nextAttemptAt: decision.nextAttemptAt.toISOString() }, 'send failed; will retry');
      return;
    }
    const outcome = await this.orm.em
      .fork()
      .transactional((em) =>
        fallBackOrGiveUp(em, n, guard, { attempt: { ...attempt, status: 'failed' }, finalStatus: 'failed', reason: error.message }, now),
      );
    if (outcome === 'fell-back') this.logger.warn(log, 'channel failed for good; falling back to the next channel');
    if (outcome === 'gave-up') this.logger.error({ ...log, permanent: error.permanent }, 'notification failed; giving up');
  }
}
