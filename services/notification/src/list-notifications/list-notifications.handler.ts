import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { recordAccess, type AccessingPrincipal } from '@sonet/messaging';
import { Notification, NotificationAttempt, UNREACHED_STATUSES } from '../domain/entities';

/** One channel tried for a notification: no address, no content. */
export interface AttemptView {
  routeStep: number;
  channel: string;
  provider: string | null;
  status: string;
  reason: string | null;
  tries: number;
  startedAt: string;
  completedAt: string | null;
}

/** The operations view of a notification: what happened and when, never to whom (no address, no content). */
export interface NotificationView {
  notificationId: string;
  referralId: string;
  causationEventType: string;
  recipientRole: string;
  channel: string;
  template: string;
  status: string;
  attempts: number;
  /** Channels given up on before the current one (failed, or no address given). */
  fallbacks: number;
  lastError: string | null;
  createdAt: string;
  nextAttemptAt: string | null;
  sentAt: string | null;
  deliveredAt: string | null;
  failedAt: string | null;
  /** Every channel tried, in order. */
  channelAttempts: AttemptView[];
}

const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

/** Partial loads: the address, the fallback route (addresses) and the rendered bodies are never even read. */
const VIEW_FIELDS = [
  'id',
  'referralId',
  'causationEventType',
  'recipientRole',
  'channel',
  'template',
  'status',
  'attempts',
  'routeStep',
  'lastError',
  'createdAt',
  'nextAttemptAt',
  'sentAt',
  'deliveredAt',
  'failedAt',
] as const;

type ViewRow = Pick<Notification, (typeof VIEW_FIELDS)[number]>;

const attemptView = (a: NotificationAttempt): AttemptView => ({
  routeStep: a.routeStep,
  channel: a.channel,
  provider: a.provider ?? null,
  status: a.status,
  reason: a.reason ?? null,
  tries: a.tries,
  startedAt: a.startedAt.toISOString(),
  completedAt: iso(a.completedAt),
});

const view = (n: ViewRow, attempts: NotificationAttempt[]): NotificationView => ({
  notificationId: n.id,
  referralId: n.referralId,
  causationEventType: n.causationEventType,
  recipientRole: n.recipientRole,
  channel: n.channel,
  template: n.template,
  status: n.status,
  attempts: n.attempts,
  fallbacks: Math.max(0, n.routeStep - 1),
  lastError: n.lastError ?? null,
  createdAt: n.createdAt.toISOString(),
  nextAttemptAt: iso(n.nextAttemptAt),
  sentAt: iso(n.sentAt),
  deliveredAt: iso(n.deliveredAt),
  failedAt: iso(n.failedAt),
  channelAttempts: attempts.filter((a) => a.notificationId === n.id).map(attemptView),
});

@Injectable()
export class ListNotificationsHandler {
  constructor(private readonly em: EntityManager) {}

  /** A referral's notifications, oldest first. */
  async execute(referralId: string, principal: AccessingPrincipal): Promise<NotificationView[]> {
    const em = this.em.fork();
    const rows = await em.find(Notification, { referralId }, { orderBy: { createdAt: 'asc', id: 'asc' }, fields: [...VIEW_FIELDS] });
    // Who was told what about the patient is itself patient data: record the read before answering.
    if (rows.length > 0)
      await recordAccess(em, principal, { referralId, resource: { service: 'notification', kind: 'notification-list', action: 'read' } });
    return this.withAttempts(em, rows);
  }

  /** Patients who could not be told (every channel failed, or none was reachable), newest first. */
  async unreachable(principal: AccessingPrincipal, limit: number): Promise<NotificationView[]> {
    const em = this.em.fork();
    const rows = await em.find(
      Notification,
      { recipientRole: 'patient', status: { $in: [...UNREACHED_STATUSES] } },
      { orderBy: { createdAt: 'desc', id: 'desc' }, limit, fields: [...VIEW_FIELDS] },
    );
    for (const referralId of new Set(rows.map((r) => r.referralId))) {
      await recordAccess(em, principal, { referralId, resource: { service: 'notification', kind: 'unreachable-list', action: 'read' } });
    }
    return this.withAttempts(em, rows);
  }

  private async withAttempts(em: EntityManager, rows: readonly ViewRow[]): Promise<NotificationView[]> {
    const attempts = rows.length
      ? await em.find(NotificationAttempt, { notificationId: { $in: rows.map((r) => r.id) } }, { orderBy: { routeStep: 'asc' } })
      : [];
    return rows.map((n) => view(n, attempts));
  }
}
