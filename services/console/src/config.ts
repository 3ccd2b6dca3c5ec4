import { z } from 'zod';
import { loadConfig, palsConfigSchema } from '@sonet/service-kit';

/** The roles a CIS2 role code can map to (a patient signs in through NHS login, never through a role code). */
export const STAFF_ROLES = ['gp', 'clinician', 'ops', 'auditor'] as const;

/** The console's settings, read once at boot (services/console/README.md documents each). */
export const consoleConfigSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    HTTP_HOST: z.string().default('127.0.0.1'),
    HTTP_PORT: z.coerce.number().int().positive().default(8080),
    /** The address people use (printed by `npm start`; the OIDC redirect URI is built from it). */
    CONSOLE_PUBLIC_URL: z.url().optional(),
    /** Signs the session cookie; at least 32 characters; required in production (a secret store). */
    CONSOLE_SESSION_SECRET: z.string().min(32).optional(),
    /** Minutes a session lives without use. */
    CONSOLE_SESSION_IDLE_MINUTES: z.coerce.number().int().positive().default(30),
    /** `dev`: sign-in picks a role and organisation and the development issuer signs the token. `oidc`: docs/runbooks/console.md. */
    CONSOLE_AUTH_MODE: z.enum(['dev', 'oidc']).default('dev'),
    /** The development issuer's directory (infra/local/network.sh creates it). */
    AUTH_DEV_ISSUER_DIR: z.string().default('.local/state/auth'),
    OIDC_ISSUER_URL: z.url().optional(),
    OIDC_CLIENT_ID: z.string().optional(),
    OIDC_CLIENT_SECRET: z.string().optional(),
    /** How the console authenticates at the token endpoint with its secret. */
    OIDC_TOKEN_AUTH_METHOD: z.enum(['client_secret_basic', 'client_secret_post']).default('client_secret_basic'),
    /** Whose provider: `cis2` (staff), `nhs-login` (patients) or `auto` (by the claims present; docs/runbooks/console.md). */
    OIDC_PROFILE: z.enum(['auto', 'cis2', 'nhs-login']).default('auto'),
    /** Space-separated scopes asked for; by default those the profile's claims come with. */
    OIDC_SCOPES: z.string().trim().min(1).optional(),
    /** JSON object: a CIS2 `role_code` (whole, or its last `:` part) → gp | clinician | ops | auditor. */
    OIDC_ROLE_MAP: z
      .string()
      .default('{}')
      .transform((text, ctx) => {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          ctx.addIssue({ code: 'custom', message: 'OIDC_ROLE_MAP is not JSON' });
          return z.NEVER;
        }
      })
      .pipe(z.record(z.string().min(1), z.enum(STAFF_ROLES))),
    REFERRAL_API_URL: z.url().default('http://127.0.0.1:8081'),
    RECORDS_TRANSFER_API_URL: z.url().default('http://127.0.0.1:8082'),
    NOTIFICATION_API_URL: z.url().default('http://127.0.0.1:8083'),
    AUDIT_API_URL: z.url().default('http://127.0.0.1:8084'),
    TEMPORAL_UI_URL: z.url().default('http://127.0.0.1:8233'),
    TEMPORAL_NAMESPACE: z.string().default('default'),
    TRACE_VIEWER_URL: z.url().default('http://127.0.0.1:9411/zipkin'),
    /** Milliseconds the console waits for a service before it shows "the service did not answer". */
    UPSTREAM_TIMEOUT_MS: z.coerce.number().int().positive().default(15_000),
    ...palsConfigSchema.shape,
  })
  .refine((c) => c.NODE_ENV !== 'production' || c.CONSOLE_SESSION_SECRET !== undefined, {
    path: ['CONSOLE_SESSION_SECRET'],
    message: 'required in production',
  })
  .refine((c) => c.NODE_ENV !== 'production' || c.CONSOLE_AUTH_MODE === 'oidc', {
    path: ['CONSOLE_AUTH_MODE'],
    message: 'production signs in through OpenID Connect (oidc)',
  })
  .refine((c) => c.CONSOLE_AUTH_MODE !== 'oidc' || (c.OIDC_ISSUER_URL && c.OIDC_CLIENT_ID && c.OIDC_CLIENT_SECRET), {
    path: ['OIDC_ISSUER_URL'],
    message: 'oidc needs OIDC_ISSUER_URL, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET',
  })
  .refine((c) => c.CONSOLE_AUTH_MODE !== 'oidc' || c.CONSOLE_PUBLIC_URL !== undefined, {
    path: ['CONSOLE_PUBLIC_URL'],
    message: 'oidc needs CONSOLE_PUBLIC_URL (the redirect URI is <CONSOLE_PUBLIC_URL>/auth/callback)',
  })
  .refine((c) => c.NODE_ENV !== 'production' || !c.OIDC_ISSUER_URL?.startsWith('http:'), {
    path: ['OIDC_ISSUER_URL'],
    message: 'production talks to its OpenID provider over https only',
  });

export type ConsoleConfig = z.output<typeof consoleConfigSchema>;

export const readConsoleConfig = (env: Record<string, string | undefined> = process.env): ConsoleConfig =>
  loadConfig(consoleConfigSchema, env);

export const CONSOLE_CONFIG = Symbol('ConsoleConfig');
