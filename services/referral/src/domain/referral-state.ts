/** States of a second-opinion referral (docs/domain.md#the-states-of-a-referral). The workflow owns them; the read model mirrors them. */
export const REFERRAL_STATES = [
  'requested',
  'gp-review',
  'declined',
  'awaiting-triage',
  'rejected-by-team',
  'more-info-requested',
  'accepted',
  'appointment-booked',
  'opinion-issued',
  'care-transfer-requested',
  'care-transferred',
  'care-retained',
  'closed',
  'withdrawn',
] as const;

export type ReferralState = (typeof REFERRAL_STATES)[number];
