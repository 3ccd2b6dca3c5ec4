// The second-opinion state machine as pure functions: which decisions each state allows, and where each
// leads. The workflow and its update validators use it; so do the unit tests. No I/O, no Temporal imports.
import type { ReferralState } from '../domain/referral-state';

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
      readonly outcome: 'concurs' | 'differs' | 'partially-differs';
      readonly summary: string;
      readonly shareWithOriginalTeam: boolean;
    }
  | { readonly type: 'inform-original-team' }
  | { readonly type: 'request-care-transfer' }
  | { readonly type: 'care-transfer-decision'; readonly accept: boolean; readonly reason?: string }
  | { readonly type: 'withdraw'; readonly reason?: string };

export type ActionType = DecisionAction['type'];

/** A directory team as the GP chose it: ids and names only, no patient data. */
export interface TeamSnapshot {
  readonly teamId: string;
  readonly ods: string;
  readonly name: string;
  readonly siteName: string;
  readonly contactEmail?: string;
  readonly distanceKm?: number;
}

/** What the decider needs to know besides the state. */
export interface DecisionContext {
  readonly state: ReferralState;
  readonly originalTeamId: string;
  readonly originalTeamInformed: boolean;
  /** The team the GP referred to last (the one that rejected it, in rejected-by-team). */
  readonly targetTeamId?: string;
}

export const TERMINAL_STATES: readonly ReferralState[] = ['declined', 'withdrawn', 'closed'];
export const isTerminal = (s: ReferralState): boolean => TERMINAL_STATES.includes(s);

const BY_STATE: Partial<Record<ReferralState, readonly ActionType[]>> = {
  requested: ['withdraw', 'inform-original-team'],
  'gp-review': ['refer', 'decline', 'inform-original-team', 'withdraw'],
  'rejected-by-team': ['refer', 'decline', 'inform-original-team', 'withdraw'],
  'awaiting-triage': ['triage-accept', 'triage-reject', 'request-info', 'inform-original-team', 'withdraw'],
  'more-info-requested': ['provide-info', 'inform-original-team', 'withdraw'],
  accepted: ['book-appointment', 'inform-original-team', 'withdraw'],
  'appointment-booked': ['issue-opinion', 'book-appointment', 'inform-original-team', 'withdraw'],
  'opinion-issued': ['request-care-transfer', 'inform-original-team', 'withdraw'],
  'care-transfer-requested': ['care-transfer-decision', 'withdraw'],
};

/** The decisions the current state allows, in a stable order (shown to callers in 409 answers). */
export function allowedActions(ctx: DecisionContext): ActionType[] {
  return (BY_STATE[ctx.state] ?? []).filter((a) => a !== 'inform-original-team' || !ctx.originalTeamInformed);
}

export class DecisionRejected extends Error {
  constructor(
    readonly reason: 'not-allowed-in-state' | 'same-team',
    message: string,
  ) {
    super(message);
    this.name = 'DecisionRejected';
  }
}

/** Throws DecisionRejected when the action may not happen now; used by the update's validator. */
export function checkDecision(ctx: DecisionContext, action: DecisionAction): void {
  if (!allowedActions(ctx).includes(action.type)) {
    throw new DecisionRejected('not-allowed-in-state', `${action.type} is not possible while the referral is ${ctx.state}`);
  }
  // Rule 3: the second opinion comes from a different team than the one that gave the first.
  if (action.type === 'refer' && action.targetTeam.teamId === ctx.originalTeamId) {
    throw new DecisionRejected('same-team', 'a second opinion must come from a different clinical team than the original one');
  }
  if (action.type === 'refer' && ctx.state === 'rejected-by-team' && action.targetTeam.teamId === ctx.targetTeamId) {
    throw new DecisionRejected('same-team', 'this team has just rejected the referral; choose another team');
  }
}

/** The state a decision leads to. Care decisions and withdrawal end the process. */
export function nextState(ctx: DecisionContext, action: DecisionAction): ReferralState {
  switch (action.type) {
    case 'refer':
      return 'awaiting-triage';
    case 'decline':
      return 'declined';
    case 'triage-accept':
      return 'accepted';
    case 'triage-reject':
      return 'rejected-by-team';
    case 'request-info':
      return 'more-info-requested';
    case 'provide-info':
      return 'awaiting-triage';
    case 'book-appointment':
      return 'appointment-booked';
    case 'issue-opinion':
      return 'opinion-issued';
    case 'inform-original-team':
      return ctx.state;
    case 'request-care-transfer':
      return 'care-transfer-requested';
    case 'care-transfer-decision':
      return action.accept ? 'care-transferred' : 'care-retained';
    case 'withdraw':
      return 'withdrawn';
  }
}

/** Steps with a due date while the referral waits in a state, and who is reminded. */
export type WaitingStep = 'gp-decision' | 'triage' | 'more-info' | 'booking' | 'opinion';
const WAITING_STEP: Partial<Record<ReferralState, WaitingStep>> = {
  'gp-review': 'gp-decision',
  'rejected-by-team': 'gp-decision',
  'awaiting-triage': 'triage',
  'more-info-requested': 'more-info',
  accepted: 'booking',
  'appointment-booked': 'opinion',
};

export const waitingStepOf = (s: ReferralState): WaitingStep | undefined => WAITING_STEP[s];

export const reminderRecipient = (step: WaitingStep): 'gp' | 'receiving-team' =>
  step === 'gp-decision' || step === 'more-info' ? 'gp' : 'receiving-team';
