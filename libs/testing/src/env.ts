import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** Where the integration tests find the real servers that infra/local starts (same defaults and env vars). */
export const integrationSettings = () => ({
  kafkaBrokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
  pg: {
    host: process.env.PGHOST ?? '127.0.0.1',
    port: Number(process.env.PGPORT ?? 5432),
    user: process.env.PGUSER ?? 'sonet',
    password: process.env.PGPASSWORD ?? 'sonet',
  },
  temporalAddress: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
  mailHttp: process.env.MAIL_HTTP_URL ?? `http://127.0.0.1:${process.env.MAIL_HTTP_PORT ?? 8025}`,
});

/** Short random suffix for names a test makes for itself (databases, topics, consumer groups). */
export const uniqueSuffix = (): string => randomBytes(5).toString('hex');

/**
 * Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs` with the last
 * error. For waiting on asynchronous effects (a Kafka hop, a workflow step) without fixed sleeps.
 */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`condition not met within ${timeoutMs} ms${lastError ? `: ${(lastError as Error).message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A fresh database for one test suite, so suites never share or truncate tables. */
export async function freshDatabase(prefix: string): Promise<{ dbName: string; drop: () => Promise<void> }> {
  const { pg } = integrationSettings();
  const dbName = `t_${prefix.replace(/[^a-z0-9_]/g, '_')}_${uniqueSuffix()}`;
  const admin = new Client({ ...pg, database: 'postgres' });
  await admin.connect();
  try {
    await admin.query(`create database "${dbName}"`);
  } finally {
    await admin.end();
  }
  return {
    dbName,
    drop: async () => {
      const c = new Client({ ...pg, database: 'postgres' });
      await c.connect();
      try {
        await c.query(`drop database if exists "${dbName}" with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}
