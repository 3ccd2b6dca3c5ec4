import { z } from 'zod';
import { Topics } from '@sonet/contracts';
import { baseConfigSchema, loadConfig } from '@sonet/service-kit';

export const auditConfigSchema = baseConfigSchema.extend({
  HTTP_PORT: z.coerce.number().int().positive().default(8084),
  PGDATABASE: z.string().default('audit'),
  KAFKA_CONSUMER_GROUP: z.string().default('audit.ingest'),
});

export type AuditConfig = z.output<typeof auditConfigSchema>;
export const readAuditConfig = (env: Record<string, string | undefined> = process.env): AuditConfig =>
  loadConfig(auditConfigSchema, env);

export const SERVICE_NAME = 'audit';
export const AUDIT_CONFIG = Symbol('AuditConfig');

/** Every topic of the network. Dead-letter topics are left out: they hold copies of messages audit already reads on the original topic. */
export const AUDITED_TOPICS: readonly string[] = Object.values(Topics);
