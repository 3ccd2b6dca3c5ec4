import type { EntityManager } from '@mikro-orm/postgresql';
import type { RecipientRole } from '@sonet/contracts';
import { currentTraceHeaders, deriveId } from '@sonet/messaging';
import type { TemplateName } from '../templates';
import { renderSms } from '../templates/sms.templates';
import { selectChannel, type ContactChannel, type ContactDetails, type RouteStep } from './channel';
import { Notification, NotificationAttempt } from './entities';

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
  readonly fallbacks: readonly RouteStep[];
  /** Preferred channels without an address: recorded as attempts that could not be made. */
  readonly skipped: readonly ContactChannel[];
  readonly subject: string;
  readonly bodyText: string;
  readonly smsText: string | null;
}

/** The id of the attempt at one step of a notification's route. */
export const attemptIdFor = (notificationId: string, routeStep: number): string => deriveId(notificationId, 'step', String(routeStep));

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
  /** PALS phone for a patient's text message. */
  readonly palsPhone?: string | undefined;
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
    fallbacks: decision.fallbacks,
    skipped: decision.skipped,
    subject: input.rendered.subject,
    bodyText: input.rendered.text,
    smsText: input.recipientRole === 'patient' ? renderSms(input.template, input.referralId, input.palsPhone) : null,
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
    out.push({ created: true, notification: createNotification(em, p, now) });
  }
  return out;
}

function createNotification(em: EntityManager, p: PlannedNotification, now: Date): Notification {
  // Channels the recipient chose but gave no address for: visible per notification as attempts that could not be made.
  p.skipped.forEach((channel, i) =>
    em.create(NotificationAttempt, {
      id: attemptIdFor(p.id, i + 1),
      notificationId: p.id,
      routeStep: i + 1,
      channel,
      provider: null,
      providerId: null,
      status: 'no-address',
      reason: `no ${channel} address given`,
      tries: 0,
      startedAt: now,
      updatedAt: now,
      completedAt: now,
    }),
  );
  return em.create(Notification, {
    id: p.id,
    referralId: p.referralId,
    causationEventId: p.causationEventId,
    causationEventType: p.causationEventType,
    recipientRole: p.recipientRole,
    channel: p.channel,
    recipientAddress: p.address,
    fallbacks: [...p.fallbacks],
    routeStep: p.status === 'pending' ? p.skipped.length + 1 : Math.max(1, p.skipped.length),
    template: p.template,
    subject: p.subject,
    bodyText: p.bodyText,
    smsText: p.smsText,
    status: p.status,
    attempts: 0,
    nextAttemptAt: p.status === 'pending' ? now : null,
    lastError: p.status === 'no-address' ? 'no address on any channel the recipient agreed to' : null,
    createdAt: now,
    traceparent: currentTraceHeaders().traceparent ?? null,
    sentAt: null,
    deliveredAt: null,
    failedAt: null,
  });
}
