import { z } from 'zod';
import { documents } from '@sonet/service-kit';
import type { AttemptView, NotificationView } from '../list-notifications/list-notifications.handler';

/** The answers of the notification API as its OpenAPI document shows them (checked against the handler's type). */

const instant = z.iso.datetime({ offset: true });

const attemptSchema = documents<AttemptView>()(
  z.object({
    routeStep: z.int(),
    channel: z.string(),
    provider: z.string().nullable(),
    status: z.string(),
    reason: z.string().nullable(),
    tries: z.int(),
    startedAt: instant,
    completedAt: instant.nullable(),
  }),
);

const notificationSchema = documents<NotificationView>()(
  z.object({
    notificationId: z.uuid(),
    referralId: z.uuid(),
    causationEventType: z.string(),
    recipientRole: z.string(),
    channel: z.string(),
    template: z.string(),
    status: z.string(),
    attempts: z.int(),
    fallbacks: z.int(),
    lastError: z.string().nullable(),
    createdAt: instant,
    nextAttemptAt: instant.nullable(),
    sentAt: instant.nullable(),
    deliveredAt: instant.nullable(),
    failedAt: instant.nullable(),
    channelAttempts: z.array(attemptSchema),
  }),
);

export const notificationListSchema = z.object({ items: z.array(notificationSchema) });
