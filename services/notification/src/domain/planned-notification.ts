import type { EntityManager } from '@mikro-orm/postgresql';
import type { RecipientRole } from '@sonet/contracts';
import { currentTraceHeaders, deriveId } from '@sonet/messaging';
import type { TemplateName } from '../templates';
import { selectChannel, type ContactDetails } from './channel';
import { Notification } from './entities';

export type { RecipientRole };

/** Everything needed to record one notification, decided without I/O. */
export interface PlannedNotification {
  readonly id: string;
  readonly referralId: string;
  readonly causationEventId: string;
  readonly causationEventType: string;
  readonly recipientRole: RecipientRole;
  readonly template: TemplateName;
  readonly channel: Notification['channel'];
  readonly address: string | null;
  readonly status: Notification['status'];
  readonly subject: string;
  readonly bodyText: string;
}

/** One notification per (event, recipient, template): a redelivered or replayed event derives the same id. */
export const notificationIdFor = (causationEventId: string, recipientRole: RecipientRole, template: TemplateName): string =>
  deriveId(causationEventId, recipientRole, template);

export function planNotification(input: {
  readonly event: { readonly id: string; readonly type: string };
  readonly referralId: string;
  readonly recipientRole: RecipientRole;
  readonly contact: ContactDetails;
  readonly template: TemplateName;
  readonly rendered: { readonly subject: string; readonly text: string };
}): PlannedNotification {
  const decision = selectChannel(input.contact);
  return {
    id: notificationIdFor(input.event.id, input.recipientRole, input.template),
    referralId: input.referralId,
    causationEventId: input.event.id,
    causationEventType: input.event.type,
    recipientRole: input.recipientRole,
    template: input.template,
    channel: decision.channel,
    address: decision.address,
    status: decision.status,
    subject: input.rendered.subject,
    bodyText: input.rendered.text,
  };
}

/**
 * Records planned notifications in the caller's transaction; one that already exists (same derived id) is
 * kept as it is. The unique constraint on (causation_event_id, recipient_role, template) backs this up when
 * two consumers race: the loser's transaction fails, is retried, and then finds the row.
 */
export async function recordNotifications(
  em: EntityManager,
  planned: readonly PlannedNotification[],
  now: Date,
): Promise<{ notification: Notification; created: boolean }[]> {
  const out: { notification: Notification; created: boolean }[] = [];
  for (const p of planned) {
    const existing = await em.findOne(Notification, { id: p.id });
    if (existing) {
      out.push({ notification: existing, created: false });
      continue;
    }
    out.push({
      created: true,
      notification: em.create(Notification, {
        id: p.id,
        referralId: p.referralId,
        causationEventId: p.causationEventId,
        causationEventType: p.causationEventType,
        recipientRole: p.recipientRole,
        channel: p.channel,
        recipientAddress: p.address,
        template: p.template,
        subject: p.subject,
        bodyText: p.bodyText,
        status: p.status,
        attempts: 0,
        nextAttemptAt: p.status === 'pending' ? now : null,
        lastError: null,
        createdAt: now,
        traceparent: currentTraceHeaders().traceparent ?? null,
        sentAt: null,
        failedAt: null,
      }),
    });
  }
  return out;
}
