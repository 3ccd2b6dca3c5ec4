import { z } from 'zod';
import { defineEvent } from '../registry';
import { Topics } from '../topics';
import { contactChannelSchema } from './referral';

export const recipientRoleSchema = z.enum(['patient', 'gp', 'original-team', 'receiving-team']);
export type RecipientRole = z.infer<typeof recipientRoleSchema>;

export const NotificationSent = defineEvent({
  type: 'notification.sent.v1',
  topic: Topics.notificationEvents,
  description: 'A notification was handed to its channel (e.g. accepted by the SMTP server).',
  schema: z.object({
    notificationId: z.uuid().describe('one per (causing event, recipient, template)'),
    referralId: z.uuid().describe('the referral'),
    causationEventId: z.uuid().describe('the event that caused this notification'),
    recipientRole: recipientRoleSchema.describe('who was told (no address: that stays in the notification service)'),
    channel: contactChannelSchema.describe('email, sms or letter'),
    template: z.string().min(1).describe('the message template used'),
    sentAt: z.iso.datetime({ offset: false }),
  }),
});
export type NotificationSentData = z.infer<typeof NotificationSent.schema>;

export const NotificationFailed = defineEvent({
  type: 'notification.failed.v1',
  topic: Topics.notificationEvents,
  description: 'A notification could not be delivered after its retries; operations should look at it.',
  schema: z.object({
    notificationId: z.uuid(),
    referralId: z.uuid(),
    causationEventId: z.uuid(),
    recipientRole: recipientRoleSchema,
    channel: contactChannelSchema,
    template: z.string().min(1),
    reason: z.string(),
    attempts: z.number().int().positive(),
    failedAt: z.iso.datetime({ offset: false }),
  }),
});
export type NotificationFailedData = z.infer<typeof NotificationFailed.schema>;
