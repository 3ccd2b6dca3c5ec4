/** A referral as GET /v1/referrals/:id answers it (the fields the console shows). */
export interface ReferralView {
  id: string;
  state: string;
  revision: number;
  allowedActions: string[];
  urgency: string;
  specialty: string;
  referringPractice: string;
  originalTeam?: { teamId: string; ods: string; name: string };
  receivingTeam?: { teamId: string; ods: string; name: string; siteName?: string } | null;
  responsibleTeam?: { ods: string; name?: string } | null;
  due?: { step: string; at: string; overdue: boolean } | null;
  appointment?: { at?: string; site?: { name?: string } } | null;
  timeline: { at: string; state: string; summary: string }[];
  traceId?: string;
}

/** Where the request is now and what happens next, in plain English (docs/domain.md, the states of a referral). */
export const PLAIN_STATE: Record<string, { now: string; next: string }> = {
  requested: { now: 'Your request has been received.', next: 'Your GP will look at it.' },
  'gp-review': { now: 'Your GP is looking at your request.', next: 'Your GP will decide whether to refer you for a second opinion.' },
  declined: {
    now: 'Your GP decided not to refer you for a second opinion.',
    next: 'Your GP will explain why. You can contact PALS if you are unhappy.',
  },
  'awaiting-triage': {
    now: 'Your referral has been sent to the team giving the second opinion.',
    next: 'The team will decide whether to accept it.',
  },
  'rejected-by-team': { now: 'The team could not accept your referral.', next: 'Your GP will talk to you about what to do next.' },
  'more-info-requested': { now: 'The team asked your GP for more information.', next: 'Your GP will answer, then the team will decide.' },
  accepted: { now: 'The team accepted your referral.', next: 'The team will book an appointment with you.' },
  'appointment-booked': { now: 'Your appointment is booked.', next: 'Go to your appointment. The team will then give their opinion.' },
  'opinion-issued': {
    now: 'The team has given their second opinion.',
    next: 'You can ask for the new team to take over your care, or stay with your original team.',
  },
  'care-transfer-requested': { now: 'You asked for the new team to take over your care.', next: 'The new team will decide.' },
  'care-transferred': { now: 'The new team now looks after your care.', next: 'Nothing more is needed from you.' },
  'care-retained': { now: 'Your original team continues to look after your care.', next: 'Nothing more is needed from you.' },
  closed: { now: 'Your request is complete.', next: 'Nothing more is needed from you.' },
  withdrawn: { now: 'You withdrew your request.', next: 'Nothing more will happen. You can ask your GP again at any time.' },
};

/** Steps, as a person reads them, for "by when". */
export const PLAIN_STEP: Record<string, string> = {
  'gp-decision': 'your GP decides',
  triage: 'the team decides',
  'more-info': 'your GP answers the team',
  appointment: 'the appointment is booked',
  opinion: 'the opinion is given',
  'care-transfer-decision': 'the team decides about your care',
};
