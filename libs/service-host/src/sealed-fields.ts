import type { Provider } from '@nestjs/common';
import { serviceTokenSource } from '@sonet/auth';
import { CachedReferralKeySource, HttpReferralKeySource, SealedFieldOpener } from '@sonet/messaging';
import type { ReferralKeysConfig } from '@sonet/service-kit';

/**
 * The opener of sealed patient details for a consuming service (ADR 14): keys from the referral service's endpoint,
 * asked for with this service's own token, held in a bounded cache. Provided as SealedFieldOpener.
 */
export function sealedFieldOpenerProvider(
  serviceName: string,
  config: ReferralKeysConfig & { readonly NODE_ENV: string; readonly AUTH_JWKS_FILE: string },
): Provider {
  return {
    provide: SealedFieldOpener,
    useFactory: () => {
      const token = serviceTokenSource({ serviceName, ...config });
      const source = new HttpReferralKeySource(config.REFERRAL_SERVICE_URL, token);
      return new SealedFieldOpener(
        new CachedReferralKeySource(source, { max: config.REFERRAL_KEY_CACHE_MAX, ttlMs: config.REFERRAL_KEY_CACHE_TTL_MS }),
      );
    },
  };
}
