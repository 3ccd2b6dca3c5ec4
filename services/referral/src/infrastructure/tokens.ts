/** DI tokens of the referral service (Symbols, never strings). */
export const REFERRAL_CONFIG = Symbol('ReferralConfig');
/** The Temporal payload codec shared by the client and the worker. */
export const PAYLOAD_CODEC = Symbol('PayloadCodec');
export { TEMPORAL_CLIENT } from '@sonet/service-kit';
