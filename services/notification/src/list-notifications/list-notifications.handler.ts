import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { recordAccess, type AccessingPrincipal } from '@sonet/messaging';
import { Notification } from '../domain/entities';

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
  lastError: string | null;
  createdAt: string;
  nextAttemptAt: string | null;
  sentAt: string | null;
  failedAt: string | null;
}

const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

@Injectable()
export class ListNotificationsHandler {
  constructor(private readonly em: EntityManager) {}

  async execute(referralId: string, principal: AccessingPrincipal): Promise<NotificationView[]> {
    const em = this.em.fork();
    // Partial load: the address and the rendered body are not even read.
    const rows = await em.find(
      Notification,
      { referralId },
      {
        orderBy: { createdAt: 'asc', id: 'asc' },
        fields: [
          'id',
          'referralId',
          'causationEventType',
          'recipientRole',
          'channel',
          'template',
          'status',
          'attempts',
          'lastError',
          'createdAt',
          'nextAttemptAt',
          'sentAt',
          'failedAt',
        ],
      },
    );
    // Who was told what about the patient is itself patient data: record the read before answering.
    if (rows.length > 0)
      await recordAccess(em, principal, { referralId, resource: { service: 'notification', kind: 'notification-list', action: 'read' } });
    return rows.map((n) => ({
      notificationId: n.id,
      referralId: n.referralId,
      causationEventType: n.causationEventType,
      recipientRole: n.recipientRole,
      channel: n.channel,
      template: n.template,
      status: n.status,
      attempts: n.attempts,
      lastError: n.lastError ?? null,
      createdAt: n.createdAt.toISOString(),
      nextAttemptAt: iso(n.nextAttemptAt),
      sentAt: iso(n.sentAt),
      failedAt: iso(n.failedAt),
    }));
  }
}
