import type { ClientConfig } from 'pg';
import { z } from 'zod';
import { Topics } from '@sonet/contracts';
import { baseConfigSchema, loadConfig, referralKeysConfigSchema } from '@sonet/service-kit';

const DEV_PATIENT_KEY = 'local-development-only-patient-key-0000';

export const auditConfigSchema = baseConfigSchema
  .extend({
    HTTP_PORT: z.coerce.number().int().positive().default(8084),
    PGDATABASE: z.string().default('audit'),
    /** The service connects as a role that may only SELECT and INSERT the log (see the migration). */
    PGUSER: z.string().default('audit_writer'),
    PGPASSWORD: z.string().default('audit_writer'),
    /** The owner of the schema: migrations and retention runs only, never the running service. */
    PGOWNER_USER: z.string().default('sonet'),
    PGOWNER_PASSWORD: z.string().default('sonet'),
    KAFKA_CONSUMER_GROUP: z.string().default('audit.ingest'),
    /** Where the keys of sealed patient details come from (ADR 14), for the patient index: REFERRAL_SERVICE_URL, ... */
    ...referralKeysConfigSchema.shape,
    /** Records appended per transaction at most (per partition). */
    AUDIT_INGEST_BATCH_SIZE: z.coerce.number().int().min(1).max(5000).default(500),
    /** The chain's name, in every checkpoint signature. */
    AUDIT_CHAIN: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]*$/)
      .default('sonet-audit'),
    AUDIT_CHECKPOINT_EVERY_ENTRIES: z.coerce.number().int().min(1).default(1000),
    AUDIT_CHECKPOINT_EVERY_SECONDS: z.coerce.number().positive().default(60),
    /** Ed25519 private key (PKCS#8 PEM) that signs checkpoints; created on first start outside production. */
    AUDIT_CHECKPOINT_KEY_FILE: z.string().default('.local/state/audit/checkpoint-signing-key.pem'),
    /** Public keys (PEM, several allowed) of retired checkpoint keys that verification still trusts. */
    AUDIT_CHECKPOINT_TRUSTED_KEYS_FILE: z.string().optional(),
    /** Where checkpoints are written outside the database (NDJSON, append-only; ship it to WORM storage). */
    AUDIT_CHECKPOINT_LOG_FILE: z.string().default('.local/state/audit/checkpoints.ndjson'),
    /** HMAC key for patient identifiers (lookup keys of NHS numbers); at least 32 characters, a secret. */
    AUDIT_PATIENT_KEY_SECRET: z.string().min(32).default(DEV_PATIENT_KEY),
    /** Whole months of entries kept; older month partitions are dropped by `audit retention`. */
    AUDIT_RETENTION_MONTHS: z.coerce.number().int().min(1).default(96),
  })
  .refine((c) => c.NODE_ENV !== 'production' || c.AUDIT_PATIENT_KEY_SECRET !== DEV_PATIENT_KEY, {
    path: ['AUDIT_PATIENT_KEY_SECRET'],
    message: 'must be set in production',
  });

export type AuditConfig = z.output<typeof auditConfigSchema>;
export const readAuditConfig = (env: Record<string, string | undefined> = process.env): AuditConfig => loadConfig(auditConfigSchema, env);

/** A plain pg connection (verification, the CLI) as the service's role, or as the owner (retention). */
export const pgConnectionOf = (config: AuditConfig, owner = false): ClientConfig => ({
  host: config.PGHOST,
  port: config.PGPORT,
  database: config.PGDATABASE,
  user: owner ? config.PGOWNER_USER : config.PGUSER,
  password: owner ? config.PGOWNER_PASSWORD : config.PGPASSWORD,
});

export const SERVICE_NAME = 'audit';
export const EVENT_SOURCE = '/sonet/audit';
export const AUDIT_CONFIG = Symbol('AuditConfig');

/** Every topic of the network. Dead-letter topics are left out: they hold copies of messages audit already reads on the original topic. */
export const AUDITED_TOPICS: readonly string[] = Object.values(Topics);
