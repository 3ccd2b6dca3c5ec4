import { defineEntity, p } from '@mikro-orm/core';
import { contactChannelSchema, recipientRoleSchema, urgencySchema } from '@sonet/contracts';

/**
 * - pending: waiting for the dispatcher (next_attempt_at says when)
 * - sent: accepted by the channel (SMTP server)
 * - failed: gave up after MAX_SEND_ATTEMPTS or a permanent rejection; NotificationFailed emitted
 * - unsupported-channel: the recipient's channel (SMS, letter) has no sender yet; recorded, not sent
 * - no-address: the preferred channel is supported but the event carries no address for it
 */
export const NOTIFICATION_STATUSES = ['pending', 'sent', 'failed', 'unsupported-channel', 'no-address'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

/** One message to one recipient, caused by one event, rendered from one template. */
export const NotificationSchema = defineEntity({
  name: 'Notification',
  tableName: 'notification',
  properties: {
    /** deriveId(causationEventId, recipientRole, template): a redelivered event maps onto the same row. */
    id: p.uuid().primary(),
    referralId: p.uuid().index(),
    causationEventId: p.uuid(),
    causationEventType: p.string(),
    recipientRole: p.enum(recipientRoleSchema.options),
    channel: p.enum(contactChannelSchema.options),
    /** Email address or phone number; null when the event carried none. Never logged or served over HTTP. */
    recipientAddress: p.text().nullable(),
    template: p.string(),
    subject: p.text(),
    bodyText: p.text(),
    status: p.enum(NOTIFICATION_STATUSES),
    /** Send attempts started (counted when claimed, so a send that crashes the process still counts). */
    attempts: p.integer().default(0),
    nextAttemptAt: p.datetime().nullable(),
    /** Why the last attempt failed, with addresses removed. */
    lastError: p.text().nullable(),
    createdAt: p.datetime(),
    sentAt: p.datetime().nullable(),
    failedAt: p.datetime().nullable(),
    /** Trace context of the causing event: the send and its outcome event continue that trace. */
    traceparent: p.string().length(55).nullable(),
  },
  uniques: [{ properties: ['causationEventId', 'recipientRole', 'template'], name: 'notification_once_uq' }],
});
export class Notification extends NotificationSchema.class {}
NotificationSchema.setClass(Notification);

/**
 * Per-referral contact projection: where each participant is told things, since most referral events carry
 * only ids. Holds names and addresses (never the NHS number); never logged or served over HTTP.
 */
export const ReferralContactSchema = defineEntity({
  name: 'ReferralContact',
  tableName: 'referral_contact',
  properties: {
    referralId: p.uuid().primary(),
    urgency: p.enum(urgencySchema.options),
    patientName: p.text(),
    patientEmail: p.text().nullable(),
    patientPhone: p.text().nullable(),
    patientPreferredChannel: p.enum(contactChannelSchema.options),
    referringPracticeOds: p.text(),
    referringPracticeEmail: p.text().nullable(),
    originalTeamName: p.text(),
    originalTeamOds: p.text(),
    originalTeamId: p.text().nullable(),
    originalTeamEmail: p.text().nullable(),
    originalTeamInformed: p.boolean().default(false),
    targetTeamName: p.text().nullable(),
    targetTeamOds: p.text().nullable(),
    targetTeamId: p.text().nullable(),
    targetTeamEmail: p.text().nullable(),
    targetAttempt: p.integer().nullable(),
    updatedAt: p.datetime(),
  },
});
export class ReferralContact extends ReferralContactSchema.class {}
ReferralContactSchema.setClass(ReferralContact);

export const notificationEntities = [NotificationSchema, ReferralContactSchema];
