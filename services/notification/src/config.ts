import { z } from 'zod';
import { baseConfigSchema, loadConfig, palsConfigSchema, palsContactOf, referralKeysConfigSchema } from '@sonet/service-kit';
import type { PalsContact } from './templates/pals';

export const notificationConfigSchema = baseConfigSchema
  .extend({
    HTTP_PORT: z.coerce.number().int().min(0).default(8083),
    PGDATABASE: z.string().default('notification'),
    KAFKA_CONSUMER_GROUP: z.string().default('notification.referral-events'),

    SMTP_HOST: z.string().default('127.0.0.1'),
    SMTP_PORT: z.coerce.number().int().positive().default(1025),
    /** true = TLS from the first byte (port 465); false = plain, upgraded with STARTTLS when the server offers it. */
    SMTP_SECURE: z.stringbool().default(false),
    SMTP_USER: z.string().min(1).optional(),
    SMTP_PASSWORD: z.string().min(1).optional(),
    MAIL_FROM: z.string().min(3).default('Second Opinion Service <no-reply@second-opinion.nhs.invalid>'),
    /** Right-hand side of the Message-ID (`<notificationId@domain>`), so a re-sent duplicate is recognisable. */
    MESSAGE_ID_DOMAIN: z
      .string()
      .regex(/^[a-z0-9.-]+$/i)
      .default('second-opinion.nhs.invalid'),

    /** PALS contact printed in patient messages (DOMAIN rule 11): PALS_*, shared with the referral service. */
    ...palsConfigSchema.shape,
    /** Where the keys of sealed patient details come from (ADR 14): REFERRAL_SERVICE_URL, SERVICE_TOKEN_FILE, ... */
    ...referralKeysConfigSchema.shape,

    /** Pause between dispatcher polls when nothing is due. */
    DISPATCH_INTERVAL_MS: z.coerce.number().int().positive().default(1_000),
    /** Notifications claimed per poll (kept small: each is an SMTP round trip). */
    DISPATCH_BATCH_SIZE: z.coerce.number().int().positive().max(100).default(5),
    /** Send attempts before a notification is marked failed and NotificationFailed is emitted. */
    MAX_SEND_ATTEMPTS: z.coerce.number().int().positive().default(5),
    /** First retry delay; doubles per attempt, capped at SEND_BACKOFF_MAX_MS. */
    SEND_BACKOFF_BASE_MS: z.coerce.number().int().positive().default(30_000),
    SEND_BACKOFF_MAX_MS: z.coerce
      .number()
      .int()
      .positive()
      .default(60 * 60_000),
    /** How long a claimed notification stays invisible to other dispatchers; must exceed the SMTP timeouts. */
    SEND_LEASE_MS: z.coerce.number().int().positive().default(120_000),
    SMTP_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  })
  .refine((c) => (c.SMTP_USER === undefined) === (c.SMTP_PASSWORD === undefined), {
    path: ['SMTP_PASSWORD'],
    message: 'SMTP_USER and SMTP_PASSWORD are set together or not at all',
  })
  .refine((c) => c.SEND_LEASE_MS > c.SMTP_TIMEOUT_MS * 3, {
    path: ['SEND_LEASE_MS'],
    message: 'must exceed 3 × SMTP_TIMEOUT_MS (connect, greeting, idle socket), or a slow send could be claimed twice',
  });

export type NotificationConfig = z.output<typeof notificationConfigSchema>;
export const readNotificationConfig = (env: Record<string, string | undefined> = process.env): NotificationConfig =>
  loadConfig(notificationConfigSchema, env);

export const SERVICE_NAME = 'notification';
/** CloudEvents `source` of everything this service emits. */
export const EVENT_SOURCE = '/sonet/notification';
export const NOTIFICATION_CONFIG = Symbol('NotificationConfig');

/** The configured PALS contact: printed in patient messages whose event carries none (rule 11). */
export const palsContactFrom = (config: NotificationConfig): PalsContact => ({
  ...palsContactOf(config),
  openingHours: config.PALS_OPENING_HOURS,
});
