// The transition catalogue, workflow half: one entry per action of the second-opinion process, saying in which
// states a person may take it, the state it leads to and the type of the event it emits. The decider, the
// workflow and its timeline read it. The other half (event definition and payload, timeline summary, read-model
// patch) is ../activities/transition-effects.ts, keyed by the same action types; the type system keeps both
// complete and makes each entry's event definition carry the event type named here.
//
// Runs in Temporal's workflow sandbox: plain data and pure functions, no imports but types.
// Recipe for a new decision: docs/adding-a-decision.md.
import type { ClosedOutcome, OpinionOutcome } from '@sonet/contracts';
import type { ReferralState } from '../domain/referral-state';

/** A directory team as the GP chose it: ids and names only, no patient data. */
export interface TeamSnapshot {
  readonly teamId: string;
  readonly ods: string;
  readonly name: string;
  readonly siteName: string;
  readonly contactEmail?: string;
  readonly distanceKm?: number;
}

/** The decisions people take (the `decision` Update's action). Recorded in histories: change only by adding. */
export type DecisionAction =
  | { readonly type: 'refer'; readonly targetTeam: TeamSnapshot }
  | { readonly type: 'decline'; readonly reason: string }
  | { readonly type: 'triage-accept' }
  | { readonly type: 'triage-reject'; readonly reason: string }
  | { readonly type: 'request-info'; readonly question: string }
  | { readonly type: 'provide-info'; readonly answer: string }
  | { readonly type: 'book-appointment'; readonly appointmentAt: string; readonly site: { readonly ods: string; readonly name: string } }
  | {
      readonly type: 'issue-opinion';
      readonly outcome: OpinionOutcome;
      readonly summary: string;
      readonly shareWithOriginalTeam: boolean;
    }
  | { readonly type: 'inform-original-team' }
  | { readonly type: 'request-care-transfer' }
  | { readonly type: 'care-transfer-decision'; readonly accept: boolean; readonly reason?: string }
  | { readonly type: 'withdraw'; readonly reason?: string };

export type ActionType = DecisionAction['type'];

/** Transitions the workflow takes by itself (timers, the end of a care-transfer decision). */
export type SystemAction = { readonly type: 'close'; readonly outcome: ClosedOutcome };

export type TransitionAction = DecisionAction | SystemAction;
export type TransitionType = TransitionAction['type'];
export type ActionOf<K extends TransitionType> = Extract<TransitionAction, { readonly type: K }>;

/** What the workflow knows about one transition. */
export interface TransitionSpec<K extends TransitionType> {
  /** The states in which a person may take it, in no particular order; empty for system transitions. */
  readonly allowedIn: readonly ReferralState[];
  /** The state it leads to; a function when that depends on the action or on the state it starts from. */
  readonly to: ReferralState | ((action: ActionOf<K>, from: ReferralState) => ReferralState);
  /** The type of the event it emits (also the workflow timeline's entry). */
  readonly eventType: string | ((action: ActionOf<K>) => string);
}

/** States from which a referral may still be withdrawn: every open state. */
const OPEN: readonly ReferralState[] = [
  'requested',
  'gp-review',
  'rejected-by-team',
  'awaiting-triage',
  'more-info-requested',
  'accepted',
  'appointment-booked',
  'opinion-issued',
  'care-transfer-requested',
];

/**
 * The catalogue. Its order is the order of `allowedActions` (shown to callers in 409 answers): the decisions
 * that move the referral on first, then informing the original team, then withdrawal.
 */
export const TRANSITIONS = {
  refer: { allowedIn: ['gp-review', 'rejected-by-team'], to: 'awaiting-triage', eventType: 'referral.referred.v1' },
  decline: { allowedIn: ['gp-review', 'rejected-by-team'], to: 'declined', eventType: 'referral.gp-declined.v1' },
  'triage-accept': { allowedIn: ['awaiting-triage'], to: 'accepted', eventType: 'referral.triage-accepted.v1' },
  'triage-reject': { allowedIn: ['awaiting-triage'], to: 'rejected-by-team', eventType: 'referral.triage-rejected.v1' },
  'request-info': { allowedIn: ['awaiting-triage'], to: 'more-info-requested', eventType: 'referral.more-info-requested.v1' },
  'provide-info': { allowedIn: ['more-info-requested'], to: 'awaiting-triage', eventType: 'referral.more-info-provided.v1' },
  'issue-opinion': { allowedIn: ['appointment-booked'], to: 'opinion-issued', eventType: 'referral.opinion-issued.v1' },
  // Also a rebooking: allowed once booked.
  'book-appointment': {
    allowedIn: ['accepted', 'appointment-booked'],
    to: 'appointment-booked',
    eventType: 'referral.appointment-booked.v1',
  },
  'request-care-transfer': {
    allowedIn: ['opinion-issued'],
    to: 'care-transfer-requested',
    eventType: 'referral.care-transfer-requested.v1',
  },
  'care-transfer-decision': {
    allowedIn: ['care-transfer-requested'],
    to: (a) => (a.accept ? 'care-transferred' : 'care-retained'),
    eventType: (a): 'referral.care-transferred.v1' | 'referral.care-retained.v1' =>
      a.accept ? 'referral.care-transferred.v1' : 'referral.care-retained.v1',
  },
  // Rule 9: at the patient's choice, once (the decider hides it once done); the state does not change.
  'inform-original-team': {
    allowedIn: OPEN.filter((s) => s !== 'care-transfer-requested'),
    to: (_a, from) => from,
    eventType: 'referral.original-team-informed.v1',
  },
  withdraw: { allowedIn: OPEN, to: 'withdrawn', eventType: 'referral.withdrawn.v1' },
  close: { allowedIn: [], to: 'closed', eventType: 'referral.closed.v1' },
} as const satisfies { readonly [K in TransitionType]: TransitionSpec<K> };

type EventTypeField<K extends TransitionType> = (typeof TRANSITIONS)[K]['eventType'];
/** The literal event type(s) an entry names: the activity half must emit exactly these. */
export type EventTypeOf<K extends TransitionType> =
  EventTypeField<K> extends (...args: never[]) => infer R ? Extract<R, string> : Extract<EventTypeField<K>, string>;

/** An entry seen through any action: sound because an entry is only ever given actions of its own type. */
const specOf = (action: TransitionAction) => TRANSITIONS[action.type] as unknown as TransitionSpec<TransitionType>;

/** The state a transition leads to from `from`. */
export function targetState(action: TransitionAction, from: ReferralState): ReferralState {
  const { to } = specOf(action);
  return typeof to === 'function' ? to(action, from) : to;
}

/** The type of the event a transition emits. */
export function eventTypeOf(action: TransitionAction): string {
  const { eventType } = specOf(action);
  return typeof eventType === 'function' ? eventType(action) : eventType;
}

/** The decisions a state allows before the decider's own rules (rule 9), in catalogue order. */
export const decisionsAllowedIn = (state: ReferralState): ActionType[] =>
  (Object.keys(TRANSITIONS) as TransitionType[]).filter((t): t is ActionType =>
    (TRANSITIONS[t].allowedIn as readonly ReferralState[]).includes(state),
  );

/** Every decision a person can take, in catalogue order (the API documents them as one enum). */
export const DECISION_TYPES = (Object.keys(TRANSITIONS) as TransitionType[]).filter((t): t is ActionType => t !== 'close') as [
  ActionType,
  ...ActionType[],
];
