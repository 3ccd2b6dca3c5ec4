import { Inject, Injectable, Logger } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { NotificationFailed, NotificationSent } from '@sonet/contracts';
import { context } from '@opentelemetry/api';
import { contextFromTraceHeaders, deriveId, emitEvent } from '@sonet/messaging';
import { EVENT_SOURCE, NOTIFICATION_CONFIG, type NotificationConfig } from '../config';
import { Notification } from '../domain/entities';
import { safeErrorMessage } from '../domain/redaction';
import type { RecipientRole } from '../domain/planned-notification';
import { EMAIL_SENDER, SendError, type EmailSender } from '../channels/email.sender';

/** A notification this dispatcher has claimed (leased) for one send attempt. */
export interface ClaimedNotification {
  readonly id: string;
  readonly referralId: string;
  readonly causationEventId: string;
  readonly recipientRole: RecipientRole;
  readonly channel: Notification['channel'];
  readonly address: string | null;
  readonly template: string;
  readonly subject: string;
  readonly bodyText: string;
  /** Attempts including this one. */
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
  recipient_role: RecipientRole;
  channel: Notification['channel'];
  recipient_address: string | null;
  template: string;
  subject: string;
  body_text: string;
  attempts: number;
  traceparent: string | null;
}

/**
 * Sends due notifications. A poll claims a small batch in one statement (`FOR UPDATE SKIP LOCKED`, so
 * replicas never claim the same row): the claim counts the attempt and pushes next_attempt_at out by a lease,
 * and no transaction is held open across SMTP. Each outcome is then written in its own transaction together
 * with its event in the outbox. If the process dies between the SMTP hand-off and that commit, the lease
 * expires and the message is sent again with the same Message-ID (at-least-once; duplicates recognisable).
 */
@Injectable()
export class DispatchNotificationsHandler {
  private readonly logger = new Logger(DispatchNotificationsHandler.name);
  private readonly policy: RetryPolicy;

  constructor(
    private readonly orm: MikroORM,
    @Inject(EMAIL_SENDER) private readonly email: EmailSender,
    @Inject(NOTIFICATION_CONFIG) private readonly config: NotificationConfig,
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
       returning n.id, n.referral_id, n.causation_event_id, n.recipient_role, n.channel, n.recipient_address,
                 n.template, n.subject, n.body_text, n.attempts, n.traceparent`,
      [this.config.SEND_LEASE_MS, this.config.DISPATCH_BATCH_SIZE],
    );
    return rows.map((r) => ({
      id: r.id,
      referralId: r.referral_id,
      causationEventId: r.causation_event_id,
      recipientRole: r.recipient_role,
      channel: r.channel,
      address: r.recipient_address,
      template: r.template,
      subject: r.subject,
      bodyText: r.body_text,
      attempts: Number(r.attempts),
      traceparent: r.traceparent,
    }));
  }

  private async dispatchOne(n: ClaimedNotification): Promise<void> {
    try {
      if (n.attempts > this.policy.maxAttempts) {
        // Claimed before, but no outcome was ever recorded (the process died mid-send, repeatedly).
        await this.recordFailure(n, new SendError('attempts used up without a recorded outcome', true));
        return;
      }
      if (n.channel !== 'email' || !n.address) {
        await this.recordFailure(n, new SendError(`no sender for channel ${n.channel} or no address`, true));
        return;
      }
      try {
        await this.email.send({ notificationId: n.id, to: n.address, subject: n.subject, text: n.bodyText });
      } catch (e) {
        await this.recordFailure(n, e instanceof SendError ? e : new SendError(safeErrorMessage(e), false));
        return;
      }
      await this.recordSent(n);
    } catch (e) {
      // Recording the outcome failed (database down): the lease runs out and the row is claimed again.
      this.logger.error({ notificationId: n.id, error: safeErrorMessage(e) }, 'could not record the outcome of a send; it will be retried');
    }
  }

  private async recordSent(n: ClaimedNotification): Promise<void> {
    const sentAt = new Date();
    const updated = await this.orm.em.fork().transactional(async (em) => {
      // Guarded by the attempt we claimed: if our lease ran out and another dispatcher took the row over,
      // only one of us records the outcome and emits the event.
      const count = await em.nativeUpdate(
        Notification,
        { id: n.id, status: 'pending', attempts: n.attempts },
        { status: 'sent', sentAt, nextAttemptAt: null, lastError: null },
      );
      if (count === 0) return false;
      await emitEvent(em, NotificationSent, {
        id: deriveId(n.id, 'sent'),
        source: EVENT_SOURCE,
        subject: n.referralId,
        time: sentAt,
        data: {
          notificationId: n.id,
          referralId: n.referralId,
          causationEventId: n.causationEventId,
          recipientRole: n.recipientRole,
          channel: n.channel,
          template: n.template,
          sentAt: sentAt.toISOString(),
        },
      });
      return true;
    });
    if (updated)
      this.logger.log({ notificationId: n.id, referralId: n.referralId, template: n.template, attempts: n.attempts }, 'notification sent');
    else
      this.logger.warn(
        { notificationId: n.id, attempts: n.attempts },
        'notification was taken over by another dispatcher; outcome not recorded twice',
      );
  }

  private async recordFailure(n: ClaimedNotification, error: SendError): Promise<void> {
    const now = new Date();
    const decision = decideAfterFailure(n.attempts, error.permanent, this.policy, now);
    const guard = { id: n.id, status: 'pending' as const, attempts: n.attempts };
    const em = this.orm.em.fork();
    if (decision.kind === 'retry') {
      await em.nativeUpdate(Notification, guard, { nextAttemptAt: decision.nextAttemptAt, lastError: error.message });
      this.logger.warn(
        {
          notificationId: n.id,
          referralId: n.referralId,
          attempts: n.attempts,
          nextAttemptAt: decision.nextAttemptAt.toISOString(),
          error: error.message,
        },
        'send failed; will retry',
      );
      return;
    }
    const failed = await em.transactional(async (tem) => {
      const count = await tem.nativeUpdate(Notification, guard, {
        status: 'failed',
        failedAt: now,
        nextAttemptAt: null,
        lastError: error.message,
      });
      if (count === 0) return false;
      await emitEvent(tem, NotificationFailed, {
        id: deriveId(n.id, 'failed'),
        source: EVENT_SOURCE,
        subject: n.referralId,
        time: now,
        data: {
          notificationId: n.id,
          referralId: n.referralId,
          causationEventId: n.causationEventId,
          recipientRole: n.recipientRole,
          channel: n.channel,
          template: n.template,
          reason: error.message,
          attempts: Math.max(1, n.attempts),
          failedAt: now.toISOString(),
        },
      });
      return true;
    });
    if (failed) {
      this.logger.error(
        { notificationId: n.id, referralId: n.referralId, attempts: n.attempts, permanent: error.permanent, error: error.message },
        'notification failed; giving up',
      );
    }
  }
}
