import { z } from 'zod';
import { baseConfigSchema, temporalWorkerConfigSchema, loadConfig, referralKeysConfigSchema } from '@sonet/service-kit';

export const recordsTransferConfigSchema = baseConfigSchema.extend({
  HTTP_PORT: z.coerce.number().int().positive().default(8082),
  PGDATABASE: z.string().default('records_transfer'),
  KAFKA_CONSUMER_GROUP: z.string().default('records-transfer.commands'),
  /** Where the keys of sealed patient details come from (ADR 14): REFERRAL_SERVICE_URL, SERVICE_TOKEN_FILE, ... */
  ...referralKeysConfigSchema.shape,
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('records-transfer'),
  /** Prebuilt workflow bundle for production workers; unset = bundle the TypeScript sources at start (tests). */
  WORKFLOW_BUNDLE_PATH: z.string().optional(),
  /** Temporal's stack trace query for this service's workflows (costly; docs/adr/0022). */
  ...temporalWorkerConfigSchema.shape,
  /** Run the Temporal worker in this process (off for API-only replicas). */
  RUN_WORKER: z.stringbool().default(true),
  /** AES-256 key (base64) for Temporal payloads; required in production. */
  TEMPORAL_PAYLOAD_KEY: z.string().optional(),
  /** Development only: where the generated payload key is kept. */
  TEMPORAL_PAYLOAD_KEY_FILE: z.string().default('.local/state/temporal-codec/records-transfer.key'),
  /** The hospitals' systems (FHIR and DICOMweb endpoints, credentials, limits per trust): a JSON file, or the JSON itself. */
  RECORDS_CONNECTORS_FILE: z.string().default('.local/state/records-transfer/connectors.json'),
  RECORDS_CONNECTORS_JSON: z.string().optional(),
  /** The relevance rule's look-back window: records older than this are not sent unless the GP adds them. */
  RECORDS_LOOKBACK_DAYS: z.coerce.number().int().positive().default(730),
  /** How long a built manifest waits for the GP's review before it is sent (ms; 0 sends at once). */
  RECORDS_REVIEW_HOLD_MS: z.coerce.number().int().nonnegative().default(5_000),
  /** Attempts per item (transient errors: 5xx, resets, time-outs) before the transfer fails and operations are told. */
  RECORDS_MAX_ATTEMPTS_PER_ITEM: z.coerce.number().int().positive().default(8),
  /** A sending activity silent for this long is taken as lost (its worker died) and started again elsewhere. */
  RECORDS_HEARTBEAT_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
});

export type RecordsTransferConfig = z.output<typeof recordsTransferConfigSchema>;
export const readRecordsTransferConfig = (env: Record<string, string | undefined> = process.env): RecordsTransferConfig =>
  loadConfig(recordsTransferConfigSchema, env);

export const SERVICE_NAME = 'records-transfer';
export const EVENT_SOURCE = '/sonet/records-transfer';
export const RECORDS_TRANSFER_CONFIG = Symbol('RecordsTransferConfig');
export const HOSPITAL_CONNECTORS = Symbol('HospitalConnectors');
export const PAYLOAD_CODEC = Symbol('PayloadCodec');
/** Tests only: faults injected into the byte streams (see activities/send.ts). */
export const STREAM_FAULTS = Symbol('StreamFaults');
