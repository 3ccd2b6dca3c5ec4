import { z } from 'zod';
import {
  baseConfigSchema,
  temporalWorkerConfigSchema,
  commaListSchema,
  loadConfig,
  palsConfigSchema,
  TEMPORAL_MAX_CACHED_WORKFLOWS_DEFAULT,
} from '@sonet/service-kit';

export const referralConfigSchema = baseConfigSchema.extend({
  HTTP_PORT: z.coerce.number().int().positive().default(8081),
  PGDATABASE: z.string().default('referral'),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('second-opinion'),
  /** Prebuilt workflow bundle for production workers; unset = bundle the TypeScript sources at start (tests). */
  WORKFLOW_BUNDLE_PATH: z.string().optional(),
  /** Temporal's stack trace query for this service's workflows (costly; docs/adr/0022). */
  ...temporalWorkerConfigSchema.shape,
  KAFKA_CONSUMER_GROUP: z.string().default('referral.records-outcomes'),
  /**
   * Notification outcomes (the stuck list) recorded this many of a partition at a time, in one transaction; records
   * outcomes always go one per transaction (they signal workflows). 1: one transaction per notification outcome.
   */
  KAFKA_RECORDS_PER_TRANSACTION: z.coerce.number().int().positive().max(1000).default(100),
  /** Run the Temporal worker in this process (off for API-only replicas). */
  RUN_WORKER: z.stringbool().default(true),
  /**
   * The bound of the worker's workflow cache: open referrals beyond it wait in Temporal's history and are replayed on
   * their next event, so the process's memory does not grow with open referrals (docs/scaling.md).
   */
  TEMPORAL_MAX_CACHED_WORKFLOWS: z.coerce.number().int().positive().default(TEMPORAL_MAX_CACHED_WORKFLOWS_DEFAULT),
  /**
   * How long POST /v1/referrals waits for Temporal to start the referral's workflow; past it the request is taken back
   * and answered 503 with Retry-After (kept well under 5 s with the database writes before it).
   */
  TEMPORAL_START_DEADLINE_MS: z.coerce.number().int().positive().default(3_000),
  /** Referrals stuck before their workflow started (e.g. Temporal was down at POST time) are started after this. */
  START_RECONCILE_AFTER_MS: z.coerce.number().int().positive().default(30_000),
  /** AES-256 key (base64) for Temporal payloads; required in production. */
  TEMPORAL_PAYLOAD_KEY: z.string().optional(),
  /** Development only: where the generated payload key is kept. */
  TEMPORAL_PAYLOAD_KEY_FILE: z.string().default('.local/state/temporal-codec/payload.key'),
  /**
   * Key-encryption key (AES-256, base64) that wraps every referral's data key (ADR 14); required in production, kept
   * in a secret store, never logged. Development: generated once into REFERRAL_KEK_FILE.
   */
  REFERRAL_KEK: z.string().optional(),
  REFERRAL_KEK_FILE: z.string().default('.local/state/referral-keys/kek.key'),
  /** The services (token subjects, role system) that may read a referral's data key; anyone else gets 403. */
  REFERRAL_KEY_READERS: commaListSchema('notification,audit,records-transfer'),
  /**
   * How long a clinical team or organisation found in the directory is answered from memory (each request and referral
   * decision looks one up); a re-seeded directory shows within it. 0: always read the database.
   */
  DIRECTORY_CACHE_TTL_MS: z.coerce.number().int().min(0).default(60_000),
  /** Rule 11: how patients reach PALS (PALS_*); carried by every event that ends a path. */
  ...palsConfigSchema.shape,
  /**
   * Timer overrides as JSON, by urgency and optionally specialty, in days, e.g.
   * {"urgent":{"urgentEscalationDays":10},"specialties":{"oncology":{"urgent":{"triage":{"dueDays":2}}}}}.
   * Defaults are in src/domain/timer-policy.ts.
   */
  TIMER_POLICY_JSON: z.string().optional(),
  /** Operations links (GET /v1/ops/stuck): the Temporal web UI and the trace viewer's UI. */
  TEMPORAL_UI_URL: z.url().default('http://127.0.0.1:8233'),
  TRACE_VIEWER_URL: z.url().default('http://127.0.0.1:9411/zipkin'),
});

export type ReferralConfig = z.output<typeof referralConfigSchema>;

export const readReferralConfig = (env: Record<string, string | undefined> = process.env): ReferralConfig =>
  loadConfig(referralConfigSchema, env);

export const SERVICE_NAME = 'referral';
/** CloudEvents `source` of everything this service emits. */
export const EVENT_SOURCE = '/sonet/referral';
