import type { EntityManager } from '@mikro-orm/postgresql';
import type { RecipientRole } from '@sonet/contracts';
import { currentTraceHeaders, deriveId } from '@sonet/messaging';
import type { TemplateName } from '../templates';
import { renderSms } from '../templates/sms.templates';
import { selectChannel, type ContactChannel, type ContactDetails, type RouteStep } from './channel';
import { nativeQuery } from '@sonet/service-kit';
import type { Notification } from './entities';

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

/** What the handlers need of a recorded notification (ids and categories for their logs). */
export type RecordedNotification = Pick<Notification, 'id' | 'referralId' | 'recipientRole' | 'channel' | 'status' | 'template'>;

/**
 * Records planned notifications in the caller's transaction; one that already exists (same derived id) is
 * kept as it is. The unique constraint on (causation_event_id, recipient_role, template) backs this up when
 * two consumers race: the loser's insert does nothing and it finds the winner's row. Plain SQL, one insert per
 * notification (and one for the channels it could not use): this runs for every consumed event, where the ORM's
 * unit of work cost more than the statements themselves (ADR 16).
 */
export async function recordNotifications(
  em: EntityManager,
  planned: readonly PlannedNotification[],
  now: Date,
): Promise<{ notification: RecordedNotification; created: boolean }[]> {
  const out: { notification: RecordedNotification; created: boolean }[] = [];
  for (const p of planned) {
    const inserted = await nativeQuery<{ id: string }>(
      em,
      `insert into notification (id, referral_id, causation_event_id, causation_event_type, recipient_role, channel,
         recipient_address, fallbacks, route_step, template, subject, body_text, sms_text, status, attempts,
         next_attempt_at, last_error, created_at, traceparent)
       values ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12, $13, $14, 0, $15, $16, $17, $18)
       on conflict do nothing
       returning id`,
      [
        p.id,
        p.referralId,
        p.causationEventId,
        p.causationEventType,
        p.recipientRole,
        p.channel,
        p.address,
        JSON.stringify(p.fallbacks),
        p.status === 'pending' ? p.skipped.length + 1 : Math.max(1, p.skipped.length),
        p.template,
        p.subject,
        p.bodyText,
        p.smsText,
        p.status,
        p.status === 'pending' ? now : null,
        p.status === 'no-address' ? 'no address on any channel the recipient agreed to' : null,
        now,
        currentTraceHeaders().traceparent ?? null,
      ],
    );
    if (inserted.length === 0) {
      const [existing] = await nativeQuery<RecordedNotification>(
        em,
        `select id, referral_id as "referralId", recipient_role as "recipientRole", channel, status, template
         from notification where causation_event_id = $1 and recipient_role = $2 and template = $3`,
        [p.causationEventId, p.recipientRole, p.template],
      );
      if (!existing) throw new Error('a notification insert did nothing, and no notification is there');
      out.push({ notification: existing, created: false });
      continue;
    }
    await recordSkippedChannels(em, p, now);
    out.push({
      created: true,
      notification: {
        id: p.id,
        referralId: p.referralId,
        recipientRole: p.recipientRole,
        channel: p.channel,
        status: p.status,
        template: p.template,
      },
    });
  }
  return out;
}

/** Channels the recipient chose but gave no address for: visible per notification as attempts that could not be made. */
async function recordSkippedChannels(em: EntityManager, p: PlannedNotification, now: Date): Promise<void> {
  if (p.skipped.length === 0) return;
  const params: unknown[] = [];
  const rows = p.skipped.map((channel, i) => {
    const n = params.length;
    params.push(attemptIdFor(p.id, i + 1), p.id, i + 1, channel, `no ${channel} address given`, now);
    return `($${n + 1}, $${n + 2}, $${n + 3}, $${n + 4}, null, null, 'no-address', $${n + 5}, 0, $${n + 6}, $${n + 6}, $${n + 6})`;
  });
  await nativeQuery(
    em,
    `insert into notification_attempt (id, notification_id, route_step, channel, provider, provider_id, status, reason, tries,
       started_at, updated_at, completed_at)
     values ${rows.join(', ')}
     on conflict do nothing`,
    params,
  );
}
