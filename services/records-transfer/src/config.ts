import { z } from 'zod';
import { baseConfigSchema, loadConfig } from '@sonet/service-kit';

export const recordsTransferConfigSchema = baseConfigSchema.extend({
  HTTP_PORT: z.coerce.number().int().positive().default(8082),
  PGDATABASE: z.string().default('records_transfer'),
  KAFKA_CONSUMER_GROUP: z.string().default('records-transfer.commands'),
});

export type RecordsTransferConfig = z.output<typeof recordsTransferConfigSchema>;
export const readRecordsTransferConfig = (env: Record<string, string | undefined> = process.env): RecordsTransferConfig =>
  loadConfig(recordsTransferConfigSchema, env);

export const SERVICE_NAME = 'records-transfer';
export const EVENT_SOURCE = '/sonet/records-transfer';
export const RECORDS_TRANSFER_CONFIG = Symbol('RecordsTransferConfig');
