import { z } from 'zod';
import { baseConfigSchema, loadConfig } from '@sonet/service-kit';

export const referralConfigSchema = baseConfigSchema.extend({
  HTTP_PORT: z.coerce.number().int().positive().default(8081),
  PGDATABASE: z.string().default('referral'),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('second-opinion'),
  /** Prebuilt workflow bundle for production workers; unset = bundle the TypeScript sources at start (tests). */
  WORKFLOW_BUNDLE_PATH: z.string().optional(),
  /** Run the Temporal worker in this process (off for API-only replicas). */
  RUN_WORKER: z.stringbool().default(true),
  /** Referrals stuck before their workflow started (e.g. Temporal was down at POST time) are started after this. */
  START_RECONCILE_AFTER_MS: z.coerce.number().int().positive().default(30_000),
});

export type ReferralConfig = z.output<typeof referralConfigSchema>;

export const readReferralConfig = (env: Record<string, string | undefined> = process.env): ReferralConfig =>
  loadConfig(referralConfigSchema, env);

export const SERVICE_NAME = 'referral';
/** CloudEvents `source` of everything this service emits. */
export const EVENT_SOURCE = '/sonet/referral';
