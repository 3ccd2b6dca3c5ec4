import { z } from 'zod';

/**
 * How a consumer of sealed patient details reaches their keys (ADR 14): the referral service's key endpoint, and
 * the service token it calls it with. Extend a service's schema with its `shape`.
 * - SERVICE_TOKEN_FILE: a file holding this service's bearer token (role `system`, subject = the service's name),
 *   re-read when it changes; in a deployment the platform writes it (an OAuth client-credentials grant at the
 *   identity provider, refreshed by a sidecar or a projected secret). Required in production.
 * - Without it, outside production, the service signs its own token with the local development issuer's key (the
 *   directory of AUTH_JWKS_FILE), as `npm run -s token -- --role system` would.
 */
export const referralKeysConfigSchema = z.object({
  REFERRAL_SERVICE_URL: z.url().default('http://127.0.0.1:8081'),
  SERVICE_TOKEN_FILE: z.string().optional(),
  /** The ODS code service tokens carry (the network's operator); only read when the service signs its own dev token. */
  SERVICE_ORGANISATION: z
    .string()
    .regex(/^[A-Z0-9]{3,10}$/)
    .default('X26'),
  /** How long a fetched key is used before asking again (erasure reaches consumers within this), and how many are held. */
  REFERRAL_KEY_CACHE_TTL_MS: z.coerce.number().int().positive().default(300_000),
  REFERRAL_KEY_CACHE_MAX: z.coerce.number().int().positive().default(1000),
});
export type ReferralKeysConfig = z.output<typeof referralKeysConfigSchema>;
