import { Inject, Injectable, Logger } from '@nestjs/common';
import { NOTIFICATION_CONFIG, type NotificationConfig } from '../config';
import { LockMode } from '@mikro-orm/core';
import { MikroORM, type EntityManager } from '@mikro-orm/postgresql';
import { GroupCommit, nativeQuery } from '@sonet/service-kit';
import type { RouteStep } from '../domain/channel';
import { FINAL_ATTEMPT_STATUSES, Notification, NotificationAttempt, type AttemptStatus, type NotificationStatus } from '../domain/entities';
import { fallBackOrGiveUp, recordAttempt, type RouteState } from '../dispatch-notifications/notification-outcomes';
import type { DeliveryReceipt } from './record-delivery-receipt.command';

/** `not-yet`: ours, but its send is not recorded yet (the receipt outran our commit): the caller asks Notify to retry. */
export type ReceiptOutcome = 'delivered' | 'fell-back' | 'gave-up' | 'unchanged' | 'unknown' | 'not-yet';

/** `delivered` receipts written in one transaction at most (receipts arriving while a group is written form the next). */
const DELIVERED_GROUP_MAX = 200;

/** What a receipt's status means for the attempt: letters `received` (posted) count as delivered. */
export const attemptStatusOf = (status: DeliveryReceipt['status']): AttemptStatus =>
  status === 'delivered' || status === 'received'
    ? 'delivered'
    : status === 'temporary-failure' || status === 'technical-failure'
      ? status
      : 'permanent-failure';

const routeStateOf = (n: Notification, attempt: NotificationAttempt): RouteState => ({
  id: n.id,
  referralId: n.referralId,
  causationEventId: n.causationEventId,
  recipientRole: n.recipientRole,
  channel: attempt.channel,
  template: n.template,
  routeStep: attempt.routeStep,
  fallbacks: n.fallbacks as RouteStep[],
  attempts: attempt.tries,
});

/**
 * Applies a delivery receipt: the attempt it names takes the receipt's status; `delivered` completes the
 * notification; a failure of its current channel falls back to the next channel (or ends it, unreachable).
 * Idempotent: an attempt that already has a final status is left as it is, so a repeated receipt changes nothing.
 */
@Injectable()
export class RecordDeliveryReceiptHandler {
  private readonly logger = new Logger(RecordDeliveryReceiptHandler.name);

  private readonly deliveredGroups: GroupCommit<string, ReceiptOutcome | undefined>;

  constructor(
    private readonly orm: MikroORM,
    @Inject(NOTIFICATION_CONFIG) private readonly config: NotificationConfig,
  ) {
    this.deliveredGroups = new GroupCommit({ write: (ids) => this.writeDelivered(ids), maxItems: DELIVERED_GROUP_MAX });
  }

  async execute(receipt: DeliveryReceipt): Promise<ReceiptOutcome> {
    const outcome =
      (attemptStatusOf(receipt.status) === 'delivered' && (await this.delivered(receipt))) || (await this.applyInFull(receipt));
    if (outcome === 'unknown') await this.countUnknown(receipt.id);
    this.logger.log({ providerId: receipt.id, status: receipt.status, outcome }, 'delivery receipt');
    return outcome;
  }

  /**
   * Most receipts say `delivered` for an attempt we know: written in groups (ADR 21), two statements for the whole
   * group, not the entities the failure path needs. Undefined when Notify's id names no attempt of ours (yet): the
   * full path tells `unknown` from `not-yet`.
   */
  private delivered(receipt: DeliveryReceipt): Promise<ReceiptOutcome | undefined> {
    return this.deliveredGroups.submit(receipt.id);
  }

  /**
   * One transaction for a group of `delivered` receipts. The notifications are locked first, in id order, as the
   * dispatcher locks them (so the two never deadlock). An attempt takes the receipt unless it has its outcome already;
   * its notification completes only when the attempt is for the channel it is on now and it is waiting for this
   * receipt (a later channel's is history). The same receipt twice in a group: the first applies it, the second
   * finds it applied (`unchanged`), as it would one group later.
   */
  private async writeDelivered(providerIds: readonly string[]): Promise<(ReceiptOutcome | undefined)[]> {
    const distinct = [...new Set(providerIds)];
    const { known, delivered } = await this.orm.em.fork().transactional(async (em) => {
      const locked = await nativeQuery<{ provider_id: string }>(
        em,
        `select a.provider_id from notification_attempt a join notification n on n.id = a.notification_id
          where a.provider_id = any ($1::uuid[]) order by n.id for update of n`,
        [distinct],
      );
      if (locked.length === 0) return { known: new Set<string>(), delivered: new Set<string>() };
      const now = new Date();
      const rows = await nativeQuery<{ provider_id: string; notification: boolean }>(
        em,
        `with a as (
           update notification_attempt set status = 'delivered', reason = null, updated_at = $1, completed_at = $1
            where provider_id = any ($2::uuid[]) and status <> all ($3::text[])
            returning provider_id, notification_id, route_step),
         n as (
           update notification set status = 'delivered', delivered_at = $1, next_attempt_at = null, last_error = null
             from a where notification.id = a.notification_id and notification.route_step = a.route_step and notification.status = 'sent'
             returning notification.id, a.provider_id)
         select a.provider_id, exists (select 1 from n where n.provider_id = a.provider_id) as notification from a`,
        [now, locked.map((r) => r.provider_id), [...FINAL_ATTEMPT_STATUSES]],
      );
      return {
        known: new Set(locked.map((r) => r.provider_id)),
        delivered: new Set(rows.filter((r) => r.notification).map((r) => r.provider_id)),
      };
    });
    const answered = new Set<string>();
    return providerIds.map((id) => {
      if (!known.has(id)) return undefined;
      const first = !answered.has(id);
      answered.add(id);
      return first && delivered.has(id) ? 'delivered' : 'unchanged';
    });
  }

  /** Any receipt, through the entities: failures fall back to the next channel or give up. */
  private async applyInFull(receipt: DeliveryReceipt): Promise<ReceiptOutcome> {
    return this.orm.em.fork().transactional(async (em) => {
      const found = await this.attemptOf(em, receipt);
      if (!found) return 'unknown' as const;
      if (found === 'not-yet') return found;
      // Locked in the dispatcher's order (notification, then attempt), so the two never deadlock.
      const n = await em.findOneOrFail(Notification, { id: found.notificationId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      const attempt = await em.findOneOrFail(
        NotificationAttempt,
        { id: found.id },
        { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
      );
      if (FINAL_ATTEMPT_STATUSES.includes(attempt.status)) return 'unchanged' as const;
      return this.apply(em, n, attempt, receipt);
    });
  }

  /**
   * The attempt by Notify's id. Not found, but the reference is a notification of ours still being sent on that
   * channel: the receipt outran the commit of the send (or a crash came between them), so it is `not-yet`.
   */
  private async attemptOf(em: EntityManager, receipt: DeliveryReceipt): Promise<NotificationAttempt | 'not-yet' | null> {
    const byId = await em.findOne(NotificationAttempt, { providerId: receipt.id });
    if (byId || !receipt.reference || !/^[0-9a-f-]{36}$/i.test(receipt.reference)) return byId;
    const n = await em.findOne(Notification, { id: receipt.reference, channel: receipt.notification_type, status: 'pending' });
    return n ? 'not-yet' : null;
  }

  private async apply(em: EntityManager, n: Notification, attempt: NotificationAttempt, receipt: DeliveryReceipt): Promise<ReceiptOutcome> {
    const now = new Date();
    const status = attemptStatusOf(receipt.status);
    const route = routeStateOf(n, attempt);
    const record = { provider: 'notify' as const, providerId: receipt.id, tries: attempt.tries };
    // Only a receipt for the channel the notification is on now moves it; one for an earlier channel is history.
    const current = n.routeStep === attempt.routeStep && n.status === 'sent';
    if (status === 'delivered') {
      await recordAttempt(em, route, { ...record, status }, now);
      if (current)
        await em.nativeUpdate(Notification, { id: n.id }, { status: 'delivered', deliveredAt: now, nextAttemptAt: null, lastError: null });
      return current ? 'delivered' : 'unchanged';
    }
    const reason = `notify receipt: ${receipt.status}`;
    if (!current) {
      await recordAttempt(em, route, { ...record, status, reason }, now);
      return 'unchanged';
    }
    const guard = { id: n.id, status: 'sent' as const, routeStep: n.routeStep };
    const r = await fallBackOrGiveUp(
      em,
      route,
      guard,
      { attempt: { ...record, status, reason }, finalStatus: status as NotificationStatus, reason },
      now,
      this.config.NOTIFICATION_EVENTS_TOPIC,
    );
    return r === 'guarded-out' ? 'unchanged' : r;
  }

  /** Receipts for messages we do not know: counted (a sign of a wrong callback URL or token reuse), never an error loop. */
  private async countUnknown(providerId: string): Promise<void> {
    await this.orm.em.fork().execute(
      `insert into notify_unknown_receipt (provider_id, received_at) values (?, now())
         on conflict (provider_id) do update set times = notify_unknown_receipt.times + 1, received_at = now()`,
      [providerId],
    );
  }
}
