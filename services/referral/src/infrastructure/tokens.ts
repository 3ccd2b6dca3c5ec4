/** DI tokens of the referral service (Symbols, never strings). */
export const REFERRAL_CONFIG = Symbol('ReferralConfig');
export { TEMPORAL_CLIENT } from '@sonet/service-kit';
