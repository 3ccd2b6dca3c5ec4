import { z } from 'zod';
import { Topics } from '@sonet/contracts';
import { baseConfigSchema, loadConfig, palsConfigSchema, palsContactOf, referralKeysConfigSchema } from '@sonet/service-kit';
import type { PalsContact } from './templates/pals';
import { TEMPLATE_NAMES, type TemplateName } from './templates';

/** A Notify template id for some of a message's channels. */
const messageTemplateIdsSchema = z.object({ sms: z.uuid().optional(), email: z.uuid().optional(), letter: z.uuid().optional() }).strict();
export type MessageTemplateIds = Partial<Record<TemplateName, z.infer<typeof messageTemplateIdsSchema>>>;

/** NOTIFY_MESSAGE_TEMPLATES: JSON naming messages we send, each with template ids for some of its channels. */
export const messageTemplatesSchema = z
  .string()
  .transform((text, ctx): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not JSON: {"<message>": {"sms": "<Notify template id>", ...}, ...}' });
      return z.NEVER;
    }
  })
  .pipe(z.partialRecord(z.enum(TEMPLATE_NAMES as [TemplateName, ...TemplateName[]]), messageTemplateIdsSchema));

export const notificationConfigSchema = baseConfigSchema
  .extend({
    HTTP_PORT: z.coerce.number().int().min(0).default(8083),
    PGDATABASE: z.string().default('notification'),
    KAFKA_CONSUMER_GROUP: z.string().default('notification.referral-events'),
    /**
     * With KAFKA_RECORDS_PER_TRANSACTION=1: events of one partition handled at once (one referral's events always in
     * order), each its own inbox transaction, the offset committed once per group of them. 1 = one by one. Times the partitions handled
     * at once (3), keep it below DB_POOL_MAX: each holds a connection, and the dispatcher needs one too.
     */
    KAFKA_RECORDS_CONCURRENTLY: z.coerce.number().int().positive().max(64).default(3),
    /** Records of a partition recorded in one inbox transaction (1: one transaction per record, KAFKA_RECORDS_CONCURRENTLY at once). */
    KAFKA_RECORDS_PER_TRANSACTION: z.coerce.number().int().positive().max(1000).default(100),
    /** The referral events topic; another one only for a benchmark that must not reach the running network. */
    REFERRAL_EVENTS_TOPIC: z.string().min(1).default(Topics.referralEvents),
    /**
     * Where notification.sent.v1 and notification.failed.v1 go; another topic only for a benchmark or a test instance
     * whose outcomes must not reach the running network (its audit log and stuck list).
     */
    NOTIFICATION_EVENTS_TOPIC: z.string().min(1).default(Topics.notificationEvents),

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

    /**
     * GOV.UK Notify (SMS, letters, and email when EMAIL_PROVIDER=notify). Unset: Notify is off, and a patient's SMS
     * or letter channel fails over to their next channel. Key format `{name}-{serviceId}-{secret}`.
     */
    NOTIFY_API_KEY: z
      .string()
      .regex(/^.+-[0-9a-f-]{36}-[0-9a-f-]{36}$/i, 'a Notify API key: {name}-{serviceId}-{secret}')
      .optional(),
    /** The local Notify-compatible server by default (infra/local/notify); production: https://api.notifications.service.gov.uk */
    NOTIFY_BASE_URL: z.url().default('http://127.0.0.1:8026'),
    /** Our three generic templates in the Notify service (((body)); email and letter also ((subject))). */
    NOTIFY_TEMPLATE_SMS: z.uuid().default('9c2ff95d-744a-4742-9a00-a2ad5a079da0'),
    NOTIFY_TEMPLATE_EMAIL: z.uuid().default('cc208341-0481-4d1f-86d3-58b4b864cd18'),
    NOTIFY_TEMPLATE_LETTER: z.uuid().default('1cd9b4f6-33a7-4a7b-a7cf-630e2faf844e'),
    /**
     * A Notify template of its own for some messages (Notify then reports, brands and versions them one by one):
     * JSON `{"patient-referred": {"sms": "<id>", "letter": "<id>"}, ...}`, message names as in GET /v1/templates/{name}/preview.
     * Such a template gets the generic one's personalisation (((body)); email and letter also ((subject))) and
     * ((reference)), the referral's short reference. Channels and messages not named use the generic templates.
     */
    NOTIFY_MESSAGE_TEMPLATES: messageTemplatesSchema.optional(),
    /** Bearer token Notify sends with delivery receipts (set in Notify's callback settings). Unset: every receipt is 401. */
    NOTIFY_CALLBACK_TOKEN: z.string().min(16).optional(),
    /** Email through the SMTP server (default) or through Notify. */
    EMAIL_PROVIDER: z.enum(['smtp', 'notify']).default('smtp'),
    /** Notify's per-key limit (3,000 a minute), shared by every replica through PostgreSQL. */
    NOTIFY_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(3_000),
    /** Wait after Notify answers 429 (the message keeps its place and its attempts). */
    NOTIFY_RATE_LIMIT_BACKOFF_MS: z.coerce.number().int().positive().default(15_000),
    NOTIFY_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),

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
  .refine((c) => c.EMAIL_PROVIDER === 'smtp' || c.NOTIFY_API_KEY !== undefined, {
    path: ['EMAIL_PROVIDER'],
    message: 'notify needs NOTIFY_API_KEY',
  })
  .refine((c) => c.SEND_LEASE_MS > c.NOTIFY_TIMEOUT_MS * 2, {
    path: ['SEND_LEASE_MS'],
    message: 'must exceed 2 × NOTIFY_TIMEOUT_MS (the check by reference and the send)',
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
