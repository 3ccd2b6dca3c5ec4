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
import { fallBackOrGiveUp, markSentMany, recordAttempt, type RouteState, type SentOutcome } from './notification-outcomes';

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
type NotifyRoute = { readonly via: 'notify'; readonly notify: NotifySender };
type Route = { readonly via: 'smtp' } | NotifyRoute | { readonly via: 'none' };

/** A claimed notification that can go out: its route and address. */
interface Sendable {
  readonly n: ClaimedNotification;
  readonly route: Route;
  readonly address: string;
}

/** Where a send ended: accepted (Notify's id, or null for SMTP), or already recorded (a failure, or a 429 deferral). */
type SendResult = { readonly kind: 'sent'; readonly providerId: string | null } | { readonly kind: 'handled' };

const traceOf = (n: ClaimedNotification) => (n.traceparent ? contextFromTraceHeaders({ traceparent: n.traceparent }) : context.active());

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

  /**
   * Claims and sends one batch; returns how many notifications it claimed. The batch's Notify sends take their
   * rate-limit budget in one statement, go out concurrently, and every accepted send is recorded (status, attempt,
   * notification.sent.v1 in the outbox) in one transaction. Failures are rare and recorded one by one.
   */
  async dispatchBatch(): Promise<number> {
    const claimed = await this.claim();
    const sendable: Sendable[] = [];
    // Rows that cannot be sent (attempts used up, no address, no sender) end at once, each on its own.
    await Promise.all(
      claimed.map((n) => {
        const unsendable = this.unsendable(n);
        if (!unsendable) sendable.push({ n, route: this.routeOf(n), address: n.address! });
        return unsendable ? context.with(traceOf(n), () => this.onError(n, unsendable)) : undefined;
      }),
    );
    const granted = await this.takeRateBudget(sendable);
    // Concurrently, so every claimed row is finished well within its lease.
    // Each send runs in the trace of the event that caused it, so its outcome event continues that trace.
    const results = await Promise.all(granted.map((s) => context.with(traceOf(s.n), () => this.sendOne(s))));
    const sent = granted.flatMap((s, i) => {
      const r = results[i]!;
      return r.kind === 'sent' ? [{ ...s, providerId: r.providerId }] : [];
    });
    await this.recordSent(sent);
    return claimed.length;
  }

  /** Why a claimed row cannot be sent at all, or undefined when it can. */
  private unsendable(n: ClaimedNotification): SendError | undefined {
    // Claimed before, but no outcome was ever recorded (the process died mid-send, repeatedly).
    if (n.attempts > this.policy.maxAttempts) return new SendError('attempts used up without a recorded outcome', true);
    if (!n.address) return new SendError(`no address for ${n.channel}`, true);
    if (this.routeOf(n).via === 'none') return new SendError(`no sender for ${n.channel} (Notify is not configured)`, true);
    return undefined;
  }

  /**
   * The sends the shared Notify rate limit allows now, taken for the whole batch in one statement. Re-claimed sends
   * are counted too (most find their message at Notify and send nothing, which only leaves budget unused). Those over
   * the budget wait for the next window, their attempt given back.
   */
  private async takeRateBudget(sendable: readonly Sendable[]): Promise<Sendable[]> {
    const viaNotify = sendable.filter((s) => s.route.via === 'notify');
    if (!this.limiter || viaNotify.length === 0) return [...sendable];
    const { granted, nextWindowAt } = await this.limiter.takeMany('notify', viaNotify.length);
    const waiting = new Set(viaNotify.slice(granted));
    if (waiting.size > 0)
      await this.deferMany(
        [...waiting].map((s) => s.n),
        nextWindowAt,
        'waiting for the shared Notify rate limit',
      );
    return sendable.filter((s) => !waiting.has(s));
  }

  /** Sends one notification; a failure is recorded here, an acceptance is left to recordSent with the rest of the batch. */
  private async sendOne({ n, route, address }: Sendable): Promise<SendResult> {
    try {
      const providerId = route.via === 'smtp' ? await this.sendSmtp(n, address) : await this.sendNotify(n, address, route as NotifyRoute);
      return { kind: 'sent', providerId };
    } catch (e) {
      await this.onError(n, e);
      return { kind: 'handled' };
    }
  }

  /** Every accepted send of the batch in one transaction; a row another dispatcher took over is left to it. */
  private async recordSent(sent: readonly (Sendable & { readonly providerId: string | null })[]): Promise<void> {
    if (sent.length === 0) return;
    const now = new Date();
    const outcomes: SentOutcome[] = sent.map(({ n, route, providerId }) => ({
      n,
      claimedAttempts: n.attempts,
      attempt: { status: 'sent', provider: route.via === 'notify' ? 'notify' : 'smtp', providerId, tries: n.attempts },
      traceparent: n.traceparent,
    }));
    let marked: Set<string>;
    try {
      marked = await this.orm.em.fork().transactional((em) => markSentMany(em, outcomes, now, this.config.NOTIFICATION_EVENTS_TOPIC));
    } catch (recordError) {
      // Recording the outcomes failed (database down): the leases run out and the rows are claimed again; a Notify
      // send is then found by its reference and adopted, an SMTP one re-sent with the same Message-ID.
      this.logger.error(
        { notifications: sent.length, error: safeErrorMessage(recordError) },
        'could not record the outcome of sends; they will be retried',
      );
      return;
    }
    for (const { n } of sent) {
      const log = { notificationId: n.id, referralId: n.referralId, template: n.template, channel: n.channel, attempts: n.attempts };
      if (marked.has(n.id)) this.logger.log(log, 'notification sent');
      else this.logger.warn(log, 'notification was taken over by another dispatcher; outcome not recorded twice');
    }
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

  /** Notify's id of the accepted message (its rate-limit budget is already taken). */
  private async sendNotify(n: ClaimedNotification, to: string, { notify }: NotifyRoute): Promise<string> {
    if (n.attempts > 1) {
      // An earlier try of this channel may have been accepted without our commit (crash): ask before sending again.
      const earlier = await notify.findByReference(n.id, n.channel);
      if (earlier) return earlier.providerId;
    }
    const text = n.channel === 'sms' ? (n.smsText ?? n.bodyText) : n.bodyText;
    const message = {
      notificationId: n.id,
      referralId: n.referralId,
      template: n.template,
      channel: n.channel,
      to,
      subject: n.subject,
      text,
    };
    return (await notify.send(message)).providerId;
  }

  /** Not this message's fault (rate limit): it waits, and the attempt it claimed is given back. */
  private async defer(n: ClaimedNotification, until: Date, reason: string): Promise<void> {
    await this.deferMany([n], until, reason);
  }

  /** defer for several rows in one statement, each guarded by the attempt count it was claimed with. */
  private async deferMany(ns: readonly ClaimedNotification[], until: Date, reason: string): Promise<void> {
    if (ns.length === 0) return;
    await this.orm.em.fork().execute(
      `update notification n
          set attempts = n.attempts - 1, next_attempt_at = ?, last_error = ?
         from (values ${ns.map(() => '(?::uuid, ?::int)').join(', ')}) as g (id, attempts)
        where n.id = g.id and n.status = 'pending' and n.attempts = g.attempts`,
      [until, reason, ...ns.flatMap((n) => [n.id, n.attempts])],
    );
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
        fallBackOrGiveUp(
          em,
          n,
          guard,
          { attempt: { ...attempt, status: 'failed' }, finalStatus: 'failed', reason: error.message },
          now,
          this.config.NOTIFICATION_EVENTS_TOPIC,
        ),
      );
    if (outcome === 'fell-back') this.logger.warn(log, 'channel failed for good; falling back to the next channel');
    if (outcome === 'gave-up') this.logger.error({ ...log, permanent: error.permanent }, 'notification failed; giving up');
  }
}
