import type { Logger } from '@nestjs/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { RecipientRole } from '@sonet/contracts';
import { currentTraceHeaders, deriveId } from '@sonet/messaging';
import type { TemplateName } from '../templates';
import { renderSms } from '../templates/sms.templates';
import { selectChannel, type ContactChannel, type ContactDetails, type RouteStep } from './channel';
import { nativeQuery, SqlParams } from '@sonet/service-kit';
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
  /** The trace this notification continues, when it is written outside the trace of the event that caused it. */
  readonly traceparent?: string | null;
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

/** Logs the notifications just recorded that cannot be sent (no address on any channel): ids and categories only. */
export function warnUnsendable(
  logger: Pick<Logger, 'warn'>,
  recorded: readonly { notification: RecordedNotification; created: boolean }[],
) {
  for (const { notification: n, created } of recorded) {
    if (created && n.status !== 'pending') {
      // Never the address or the name.
      logger.warn(
        {
          notificationId: n.id,
          referralId: n.referralId,
          recipientRole: n.recipientRole,
          channel: n.channel,
          status: n.status,
          template: n.template,
        },
        'notification recorded but not sendable',
      );
    }
  }
}

/**
 * A data-modifying statement written in the same round trip as the notifications, in parts; it returns a text column
 * `key` per row it wrote (answered as `alongsideKeys`).
 */
export type AlongsideWrite = (params: SqlParams) => string;

const NOTIFICATION_COLUMNS = `id, referral_id, causation_event_id, causation_event_type, recipient_role, channel, recipient_address, fallbacks,
  route_step, template, subject, body_text, sms_text, status, attempts, next_attempt_at, last_error, created_at, traceparent`;
const ATTEMPT_COLUMNS =
  'id, notification_id, route_step, channel, provider, provider_id, status, reason, tries, started_at, updated_at, completed_at';

function notificationRow(p: PlannedNotification, now: Date, traceparent: string | null, $: SqlParams): string {
  const routeStep = p.status === 'pending' ? p.skipped.length + 1 : Math.max(1, p.skipped.length);
  const lastError = p.status === 'no-address' ? 'no address on any channel the recipient agreed to' : null;
  return `(${[
    $.add(p.id, '::uuid'),
    $.add(p.referralId, '::uuid'),
    $.add(p.causationEventId, '::uuid'),
    $.add(p.causationEventType),
    $.add(p.recipientRole),
    $.add(p.channel),
    $.add(p.address),
    $.add(JSON.stringify(p.fallbacks), '::jsonb'),
    $.add(routeStep, '::int'),
    $.add(p.template),
    $.add(p.subject),
    $.add(p.bodyText),
    $.add(p.smsText),
    $.add(p.status),
    '0',
    $.add(p.status === 'pending' ? now : null, '::timestamptz'),
    $.add(lastError),
    $.add(now, '::timestamptz'),
    $.add(p.traceparent !== undefined ? p.traceparent : traceparent),
  ].join(', ')})`;
}

/** Channels the recipient chose but gave no address for: visible per notification as attempts that could not be made. */
const skippedAttemptRows = (p: PlannedNotification, now: Date, $: SqlParams): string[] =>
  p.skipped.map((channel, i) => {
    const at = $.add(now, '::timestamptz');
    return `(${$.add(attemptIdFor(p.id, i + 1), '::uuid')}, ${$.add(p.id, '::uuid')}, ${$.add(i + 1, '::int')}, ${$.add(channel)}, null::text, null::uuid,
      'no-address', ${$.add(`no ${channel} address given`)}, 0, ${at}, ${at}, ${at})`;
  });

/**
 * Records planned notifications in the caller's transaction; one that already exists (same derived id) is
 * kept as it is. The unique constraint on (causation_event_id, recipient_role, template) backs this up when
 * two consumers race: the loser's insert does nothing and it finds the winner's row. Plain SQL in one statement:
 * the notifications, the channels they could not use, and the caller's `alongside` write (ADR 16: this runs for
 * every consumed event, where round trips cost more than the statements themselves).
 */
export async function recordNotifications(
  em: EntityManager,
  planned: readonly PlannedNotification[],
  now: Date,
): Promise<{ notification: RecordedNotification; created: boolean }[]> {
  return (await recordNotificationsWith(em, planned, now)).recorded;
}

/** recordNotifications, and `alongside` in the same statement; `alongsideKeys` are the keys of the rows it wrote. */
export async function recordNotificationsWith(
  em: EntityManager,
  planned: readonly PlannedNotification[],
  now: Date,
  alongside?: AlongsideWrite,
): Promise<{ recorded: { notification: RecordedNotification; created: boolean }[]; alongsideKeys: string[] }> {
  const $ = new SqlParams();
  const traceparent = currentTraceHeaders().traceparent ?? null;
  const parts: string[] = [];
  if (alongside) parts.push(`x as (${alongside($)})`);
  if (planned.length > 0) {
    parts.push(`n as (insert into notification (${NOTIFICATION_COLUMNS})
      values ${planned.map((p) => notificationRow(p, now, traceparent, $)).join(', ')}
      on conflict do nothing returning id)`);
    const skipped = planned.flatMap((p) => skippedAttemptRows(p, now, $));
    if (skipped.length > 0)
      parts.push(`s as (insert into notification_attempt (${ATTEMPT_COLUMNS})
        select * from (values ${skipped.join(', ')}) as v (${ATTEMPT_COLUMNS})
         where v.notification_id in (select id from n)
        on conflict do nothing)`);
  }
  if (parts.length === 0) return { recorded: [], alongsideKeys: [] };
  const [row] = await nativeQuery<{ created: string[] | null; alongside: string[] | null }>(
    em,
    `with ${parts.join(',\n')}
     select ${planned.length > 0 ? '(select array_agg(id)::text[] from n)' : 'null::text[]'} as created,
            ${alongside ? '(select array_agg(key)::text[] from x)' : 'null::text[]'} as alongside`,
    $.values,
  );
  const created = new Set(row?.created ?? []);
  const recorded: { notification: RecordedNotification; created: boolean }[] = [];
  for (const p of planned) {
    if (created.has(p.id)) {
      recorded.push({
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
      continue;
    }
    const [existing] = await nativeQuery<RecordedNotification>(
      em,
      `select id, referral_id as "referralId", recipient_role as "recipientRole", channel, status, template
       from notification where causation_event_id = $1 and recipient_role = $2 and template = $3`,
      [p.causationEventId, p.recipientRole, p.template],
    );
    if (!existing) throw new Error('a notification insert did nothing, and no notification is there');
    recorded.push({ notification: existing, created: false });
  }
  return { recorded, alongsideKeys: row?.alongside ?? [] };
}
