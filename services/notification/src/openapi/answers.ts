import { z } from 'zod';
import { documents } from '@sonet/service-kit';
import type { NotificationView } from '../list-notifications/list-notifications.handler';

/** The answers of the notification API as its OpenAPI document shows them (checked against the handler's type). */

const instant = z.iso.datetime({ offset: true });

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
    lastError: z.string().nullable(),
    createdAt: instant,
    nextAttemptAt: instant.nullable(),
    sentAt: instant.nullable(),
    failedAt: instant.nullable(),
  }),
);

export const notificationListSchema = z.object({ items: z.array(notificationSchema) });
