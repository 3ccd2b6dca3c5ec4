import { z } from 'zod';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** A comma-separated list (spaces around items and empty items dropped), e.g. Kafka brokers or service names. */
export const commaListSchema = (defaultValue: string) =>
  z
    .string()
    .default(defaultValue)
    .transform((s) =>
      s
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
    );

/** Settings every service shares; each service extends this with its own. */
export const baseConfigSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HTTP_HOST: z.string().default('127.0.0.1'),
  KAFKA_BROKERS: commaListSchema('127.0.0.1:9092'),
  PGHOST: z.string().default('127.0.0.1'),
  PGPORT: z.coerce.number().int().positive().default(5432),
  PGUSER: z.string().default('sonet'),
  PGPASSWORD: z.string().default('sonet'),
  DB_POOL_MAX: z.coerce.number().int().positive().default(10),
  /** Bearer tokens: who issues them, for whom, and where their public keys are (a JWKS URL, or a file locally). */
  AUTH_ISSUER: z.string().default('https://dev-issuer.sonet.invalid'),
  AUTH_AUDIENCE: z.string().default('sonet'),
  AUTH_JWKS_URL: z.url().optional(),
  AUTH_JWKS_FILE: z.string().default('.local/state/auth/jwks.json'),
});

/**
 * Reads and validates the environment once, at boot. Every invalid variable is named in one error,
 * so a misconfigured deployment fails fast with the whole list. Values are never echoed (they may be secrets).
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: Record<string, string | undefined> = process.env): z.output<S> {
  const r = schema.safeParse(env);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return r.data;
}

/** DI token for a service's validated configuration object. */
export const SERVICE_CONFIG = Symbol('ServiceConfig');
