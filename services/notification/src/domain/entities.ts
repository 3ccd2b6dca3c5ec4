import { defineEntity, p } from '@mikro-orm/core';
import { contactChannelSchema, recipientRoleSchema, urgencySchema, type ContactChannel, type PostalAddress } from '@sonet/contracts';
import type { RouteStep } from './channel';

/**
 * - pending: waiting for the dispatcher (next_attempt_at says when)
 * - sent: accepted by the channel (SMTP server, GOV.UK Notify); Notify's receipt follows
 * - delivered: Notify's receipt says it reached the phone, mailbox or post (letters: printed and posted)
 * - permanent-failure, temporary-failure, technical-failure: Notify's receipt for the last channel of the route
 *   (an earlier channel failing falls back to the next one instead)
 * - failed: gave up sending after MAX_SEND_ATTEMPTS or a permanent rejection on the last channel; NotificationFailed emitted
 * - unsupported-channel: (rows from before Notify) the channel had no sender; recorded, not sent
 * - no-address: the recipient gave no address on any channel they agreed to
 */
/** How a send can end on one channel: Notify's receipts, or our own giving up (no address, attempts used up). */
const CHANNEL_FAILURES = ['permanent-failure', 'temporary-failure', 'technical-failure', 'failed'] as const;

export const NOTIFICATION_STATUSES = ['pending', 'sent', 'delivered', ...CHANNEL_FAILURES, 'unsupported-channel', 'no-address'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];
/** Statuses that mean the recipient was not told (operations' unreachable list). */
export const UNREACHED_STATUSES: readonly NotificationStatus[] = [...CHANNEL_FAILURES, 'unsupported-channel', 'no-address'];

/** One try of one channel of a notification's route. */
export const ATTEMPT_STATUSES = ['sending', 'sent', 'delivered', ...CHANNEL_FAILURES, 'no-address'] as const;
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];
/** An attempt in one of these has its outcome: a later receipt for it changes nothing. */
export const FINAL_ATTEMPT_STATUSES: readonly AttemptStatus[] = ['delivered', ...CHANNEL_FAILURES, 'no-address'];

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
    /** Email address, phone number or a letter's address lines; null when none was given. Never logged or served over HTTP. */
    recipientAddress: p.text().nullable(),
    /** The channels still to try, in the recipient's order, when the current one fails for good. Holds addresses. */
    fallbacks: p.json<RouteStep[]>().default([]),
    /** The route step being tried (1 = the first channel; skipped channels without an address count). */
    routeStep: p.integer().default(1),
    template: p.string(),
    subject: p.text(),
    bodyText: p.text(),
    /** The text message version (no clinical detail) for patients; null for those never texted. */
    smsText: p.text().nullable(),
    status: p.enum(NOTIFICATION_STATUSES),
    /** Send attempts started (counted when claimed, so a send that crashes the process still counts). */
    attempts: p.integer().default(0),
    nextAttemptAt: p.datetime().nullable(),
    /** Why the last attempt failed, with addresses removed. */
    lastError: p.text().nullable(),
    createdAt: p.datetime(),
    sentAt: p.datetime().nullable(),
    deliveredAt: p.datetime().nullable(),
    failedAt: p.datetime().nullable(),
    /** Trace context of the causing event: the send and its outcome event continue that trace. */
    traceparent: p.string().length(55).nullable(),
  },
  uniques: [{ properties: ['causationEventId', 'recipientRole', 'template'], name: 'notification_once_uq' }],
});
export class Notification extends NotificationSchema.class {}
NotificationSchema.setClass(Notification);

/**
 * One channel of a notification tried: a row per route step (retries of that step update it), with the provider's
 * id so a delivery receipt finds it, and its outcome. Holds no address and no content.
 */
export const NotificationAttemptSchema = defineEntity({
  name: 'NotificationAttempt',
  tableName: 'notification_attempt',
  properties: {
    /** deriveId(notificationId, 'step', routeStep). */
    id: p.uuid().primary(),
    notificationId: p.uuid().index(),
    routeStep: p.integer(),
    channel: p.enum(contactChannelSchema.options),
    provider: p.string().length(16).nullable(),
    /** GOV.UK Notify's notification id (receipts carry it). */
    providerId: p.uuid().nullable().unique(),
    status: p.enum(ATTEMPT_STATUSES),
    reason: p.text().nullable(),
    tries: p.integer().default(0),
    startedAt: p.datetime(),
    updatedAt: p.datetime(),
    completedAt: p.datetime().nullable(),
  },
  uniques: [{ properties: ['notificationId', 'routeStep'], name: 'notification_attempt_step_uq' }],
});
export class NotificationAttempt extends NotificationAttemptSchema.class {}
NotificationAttemptSchema.setClass(NotificationAttempt);

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
    /** E.164 mobile (or, from older events, the free-form phone). */
    patientPhone: p.text().nullable(),
    patientPreferredChannel: p.enum(contactChannelSchema.options),
    patientAddress: p.json<PostalAddress>().nullable(),
    /** Most preferred first; null on rows from before issue 11 (then `patientPreferredChannel` alone). */
    patientContactPreferences: p.json<ContactChannel[]>().nullable(),
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

export const notificationEntities = [NotificationSchema, NotificationAttemptSchema, ReferralContactSchema];
